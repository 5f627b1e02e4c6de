#!/usr/bin/env python3
"""Writes flat-country.mmdb: a tiny MaxMind DB in the flat `country_code` layout of
the free DB-IP / ip-location-db / geo-whois country files, for the GeoIP tests.
Made by us (no third-party data): `pip install mmdb-writer==0.2.7`, then run it here.
"""
from mmdb_writer import MMDBWriter
from netaddr import IPSet

writer = MMDBWriter(ip_version=6, database_type="geo-whois-asn-country", ipv4_compatible=True)
for network, code in [
    ("8.8.8.0/24", "US"),
    ("2.125.160.216/29", "GB"),
    ("81.2.69.0/24", "GB"),
    ("89.160.20.0/24", "SE"),
    ("2001:218::/32", "JP"),
]:
    writer.insert_network(IPSet([network]), {"country_code": code})
writer.to_db_file("flat-country.mmdb")
