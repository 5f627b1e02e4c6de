//! `spoorloos privacy`: a plain-language privacy statement, in English or Dutch,
//! generated from the loaded configuration, ready to paste into a site's privacy
//! policy. Every sentence is tied to code: the stored columns are those of
//! `sql/duckdb/migrations/0001_events.sql` that this configuration fills; the pseudonym is
//! `src/pseudonymise/` (daily salt, blake3 keyed hash, 64 bits); salts are destroyed
//! `session_timeout_minutes` after midnight UTC (checked every second, `src/app.rs`);
//! retention and crowd size are `src/lifecycle/`; GeoIP lookups are in memory
//! (`src/enrich/geo.rs`). Change the text when the code changes.

use crate::config::{Config, PrivacySignalPolicy};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    En,
    Nl,
}

impl Lang {
    pub fn parse(text: &str) -> Result<Self, super::ReportError> {
        match text.trim() {
            "en" => Ok(Self::En),
            "nl" => Ok(Self::Nl),
            other => Err(super::ReportError::usage(format!(
                "--lang {other:?} is not a language; try: en, nl"
            ))),
        }
    }
}

/// The statement as Markdown.
pub fn statement(config: &Config, lang: Lang) -> String {
    let t = |en: &str, nl: &str| -> String {
        match lang {
            Lang::En => en.to_owned(),
            Lang::Nl => nl.to_owned(),
        }
    };
    let sites = config.sites.join(", ");
    let p = &config.privacy;
    let r = &config.retention;
    let timeout = p.session_timeout_minutes;
    let database = std::path::absolute(&config.database)
        .unwrap_or_else(|_| config.database.clone())
        .display()
        .to_string();
    let mut out = String::new();
    let mut line = |s: String| {
        out.push_str(&s);
        out.push('\n');
    };

    line(t(
        &format!("# Web statistics on {sites}\n"),
        &format!("# Webstatistieken op {sites}\n"),
    ));
    line(t(
        "We count visits with Spoorloos, an analytics program that runs on our own server. \
It sets no cookies and stores nothing in your browser.\n",
        "We tellen bezoeken met Spoorloos, een statistiekprogramma dat op onze eigen server draait. \
Het plaatst geen cookies en slaat niets op in uw browser.\n",
    ));

    // What is collected.
    line(t("## What we collect\n", "## Wat we vastleggen\n"));
    line(t(
        "For every page view, and for the events the site counts (such as a sign-up), we store:\n",
        "Bij elke paginaweergave, en bij gebeurtenissen die de site telt (zoals een aanmelding), slaan we op:\n",
    ));
    line(t(
        "- the time, the website and the page address without its query string: only the campaign tags \
(utm_source, utm_medium, utm_campaign, utm_content, utm_term) are kept, and parts of the address \
that look like e-mail addresses, long numbers or codes are blanked out;",
        "- het tijdstip, de website en het paginaadres zonder de zoekparameters: alleen de campagnelabels \
(utm_source, utm_medium, utm_campaign, utm_content, utm_term) blijven over, en delen van het adres \
die op e-mailadressen, lange getallen of codes lijken worden weggelaten;",
    ));
    line(t(
        "- the website you came from (its address without query string), and the source and channel derived from it;",
        "- de website waar u vandaan kwam (het adres zonder zoekparameters), en de bron en het kanaal die daaruit volgen;",
    ));
    if config.geoip.country.is_some() {
        if config.geoip.city {
            line(t(
                "- your country, region and city, looked up from your IP address in a database on this server;",
                "- uw land, regio en plaats, opgezocht aan de hand van uw IP-adres in een database op deze server;",
            ));
        } else {
            line(t(
                "- your country, looked up from your IP address in a database on this server;",
                "- uw land, opgezocht aan de hand van uw IP-adres in een database op deze server;",
            ));
        }
    }
    line(t(
        "- your browser and its main version number, your operating system and its version, and the kind of device (desktop, mobile, tablet);",
        "- uw browser en het hoofdversienummer, uw besturingssysteem en de versie, en het soort apparaat (desktop, mobiel, tablet);",
    ));
    line(t(
        "- the size class of your screen (not its exact width);",
        "- de grootteklasse van uw scherm (niet de precieze breedte);",
    ));
    if config.geoip.connection_type.is_some() {
        line(t(
            "- the kind of internet connection (such as cable/DSL or mobile), looked up from your IP address in a database on this server, \
or as your browser reports it; and whether your browser asks to save data;",
            "- het soort internetverbinding (zoals kabel/DSL of mobiel), opgezocht aan de hand van uw IP-adres in een database op deze server, \
of zoals uw browser die meldt; en of uw browser vraagt om dataverbruik te beperken;",
        ));
    } else {
        line(t(
            "- the kind of internet connection, if your browser reports it; and whether your browser asks to save data;",
            "- het soort internetverbinding, als uw browser die meldt; en of uw browser vraagt om dataverbruik te beperken;",
        ));
    }
    line(t(
        "- how far you scrolled and how long the page was in use;",
        "- hoe ver u scrolde en hoe lang de pagina in gebruik was;",
    ));
    line(t(
        "- properties the site attaches to an event (such as the chosen plan);",
        "- kenmerken die de site aan een gebeurtenis meegeeft (zoals het gekozen abonnement);",
    ));
    line(t(
        "- a visitor code and a visit code, explained below.\n",
        "- een bezoekerscode en een bezoekcode, hieronder uitgelegd.\n",
    ));

    // Never stored.
    line(t("## What we never store\n", "## Wat we nooit opslaan\n"));
    line(t(
        "Your IP address, your browser's full identification string (User-Agent), full page addresses with their query strings, \
cookies or anything else in your browser, and any code that links your visits on one day to those on another day. \
The IP address and User-Agent are used only in memory while your visit is counted, and are never written to disk or to logs.\n",
        "Uw IP-adres, de volledige identificatie van uw browser (User-Agent), volledige paginaadressen met zoekparameters, \
cookies of iets anders in uw browser, en geen enkele code die uw bezoeken op de ene dag koppelt aan die op een andere dag. \
Het IP-adres en de User-Agent worden alleen in het geheugen gebruikt terwijl uw bezoek wordt geteld, en nooit naar schijf of logbestanden geschreven.\n",
    ));

    // The pseudonym.
    line(t(
        "## How the visitor code works\n",
        "## Hoe de bezoekerscode werkt\n",
    ));
    let ip_en = if p.ipv4_prefix < 32 || p.ipv6_prefix < 128 {
        format!(
            "the network part of your IP address (the first {} bits of an IPv4 address, the first {} bits of an IPv6 address)",
            p.ipv4_prefix, p.ipv6_prefix
        )
    } else {
        "your IP address".to_owned()
    };
    let ip_nl = if p.ipv4_prefix < 32 || p.ipv6_prefix < 128 {
        format!(
            "het netwerkdeel van uw IP-adres (de eerste {} bits van een IPv4-adres, de eerste {} bits van een IPv6-adres)",
            p.ipv4_prefix, p.ipv6_prefix
        )
    } else {
        "uw IP-adres".to_owned()
    };
    line(t(
        &format!(
            "To tell visitors apart within one day, the visitor code is computed from the website's name, {ip_en} and your browser's User-Agent, \
with a keyed hash (BLAKE3) under a random key that is made fresh every day at 00:00 UTC. Only 64 bits of the result are kept. \
The day's key is kept in memory and in the database while it is in use; {timeout} minutes after midnight (UTC) it is destroyed, \
and the database file is rewritten so that no copy of it remains. From then on nobody, including us, can compute that day's codes again \
or link them to another day's. A visit (the visit code) ends after {timeout} minutes without activity, and at the latest \
at the end of the day after the one it began on: a visitor code is never used longer.\n"
        ),
        &format!(
            "Om bezoekers binnen één dag uit elkaar te houden, wordt de bezoekerscode berekend uit de naam van de website, {ip_nl} en de User-Agent van uw browser, \
met de hashfunctie BLAKE3 en een geheime, willekeurige sleutel die elke dag om 00:00 UTC opnieuw wordt aangemaakt. Alleen 64 bits van de uitkomst worden bewaard. \
De sleutel van de dag staat in het geheugen en in de database zolang hij nodig is; {timeout} minuten na middernacht (UTC) wordt hij vernietigd, \
en het databasebestand wordt herschreven zodat er geen kopie van overblijft. Daarna kan niemand, ook wij niet, de codes van die dag opnieuw berekenen \
of koppelen aan die van een andere dag. Een bezoek (de bezoekcode) eindigt na {timeout} minuten zonder activiteit, en uiterlijk \
aan het eind van de dag na de dag waarop het begon: langer wordt een bezoekerscode nooit gebruikt.\n"
        ),
    ));

    // Privacy signals.
    line(t(
        "## Global Privacy Control and Do Not Track\n",
        "## Global Privacy Control en Do Not Track\n",
    ));
    line(match p.signals {
        PrivacySignalPolicy::Anonymous => t(
            "If your browser sends Global Privacy Control or Do Not Track, your page view is counted without a visitor code, as a visit of its own: \
its visit code is random and belongs to that page view alone, so it cannot be linked to any other page view.\n",
            "Als uw browser Global Privacy Control of Do Not Track meestuurt, wordt uw paginaweergave zonder bezoekerscode geteld, als afzonderlijk bezoek: \
de bezoekcode is willekeurig en hoort alleen bij die ene paginaweergave. Zo is die aan geen enkele andere paginaweergave te koppelen.\n",
        ),
        PrivacySignalPolicy::Drop => t(
            "If your browser sends Global Privacy Control or Do Not Track, your visit is not recorded at all.\n",
            "Als uw browser Global Privacy Control of Do Not Track meestuurt, wordt uw bezoek helemaal niet vastgelegd.\n",
        ),
        PrivacySignalPolicy::Ignore => t(
            "Global Privacy Control and Do Not Track signals are not acted upon: such visits are counted like any other.\n",
            "Op de signalen Global Privacy Control en Do Not Track wordt niet gereageerd: zulke bezoeken worden geteld zoals alle andere.\n",
        ),
    });

    // Retention.
    line(t(
        "## How long we keep it\n",
        "## Hoe lang we het bewaren\n",
    ));
    line(t(
        &format!(
            "The page views with their visitor and visit codes are deleted after {} days. \
Before that, each ended day is summed up into daily totals per page, source, country and so on, without any visitor or visit code. \
A total for one page, source, country or other value is kept only if it describes at least {} visitors; smaller ones are merged into \"(other)\". \
\"(other)\" and the site's overall total per day name no value, so they are kept whatever they count, even a single visitor. \
Totals per combination of two values (a country and a page, say) are kept the same way, but only if they describe at least {} visitors; smaller ones are merged into \"(other)\" or left out. \
These daily totals are kept for {} months, then deleted. \
To answer questions quickly, totals per day, also per combination of two values, are kept without that merging as well, but never longer than the page views they come from: when those are deleted, these are deleted or merged as above.\n",
            r.event_days, r.min_crowd, r.min_crowd, r.aggregate_months
        ),
        &format!(
            "De paginaweergaven met hun bezoekers- en bezoekcodes worden na {} dagen verwijderd. \
Daarvoor wordt elke afgelopen dag opgeteld tot dagtotalen per pagina, bron, land enzovoort, zonder bezoekers- of bezoekcode. \
Een totaal voor één pagina, bron, land of andere waarde bewaren we alleen als het minstens {} bezoekers beschrijft; kleinere totalen worden samengevoegd onder \"(other)\". \
\"(other)\" en het totaal van de hele site per dag noemen geen waarde en worden dus bewaard wat ze ook tellen, ook als dat één bezoeker is. \
Totalen per combinatie van twee waarden (bijvoorbeeld een land en een pagina) bewaren we op dezelfde manier, maar alleen als ze minstens {} bezoekers beschrijven; kleinere worden samengevoegd onder \"(other)\" of weggelaten. \
Deze dagtotalen bewaren we {} maanden en verwijderen we daarna. \
Om vragen snel te beantwoorden bewaren we daarnaast totalen per dag, ook per combinatie van twee waarden, zonder dat samenvoegen, maar nooit langer dan de paginaweergaven waaruit ze komen: als die worden verwijderd, worden deze verwijderd of samengevoegd zoals hierboven.\n",
            r.event_days, r.min_crowd, r.min_crowd, r.aggregate_months
        ),
    ));

    // Where.
    line(t(
        "## Where the data lives\n",
        "## Waar de gegevens staan\n",
    ));
    line(t(
        &format!(
            "Everything is stored in one database file on our own server ({database}). Nothing is sent to third parties{}.",
            if config.geoip.country.is_some() || config.geoip.connection_type.is_some() {
                "; the location lookup uses a file on the same server, so your IP address is not sent anywhere"
            } else {
                ""
            }
        ),
        &format!(
            "Alles staat in één databasebestand op onze eigen server ({database}). Er gaat niets naar derden{}.",
            if config.geoip.country.is_some() || config.geoip.connection_type.is_some() {
                "; het opzoeken van de locatie gebruikt een bestand op dezelfde server, dus uw IP-adres wordt nergens heen gestuurd"
            } else {
                ""
            }
        ),
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn says_only_what_the_config_makes_true() {
        let config = Config::default();
        let en = statement(&config, Lang::En);
        assert!(
            !en.contains("your country"),
            "no GeoIP database, no country"
        );
        assert!(en.contains("after 31 days") && en.contains("25 months"));
        assert!(en.contains("at least 5 visitors"));
        let nl = statement(&config, Lang::Nl);
        assert!(nl.contains("na 31 dagen") && nl.contains("25 maanden"));
        let mut truncated = Config::default();
        truncated.privacy.ipv4_prefix = 24;
        truncated.privacy.signals = PrivacySignalPolicy::Drop;
        let en = statement(&truncated, Lang::En);
        assert!(en.contains("first 24 bits") && en.contains("not recorded at all"));
    }
}
