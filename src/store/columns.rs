//! Events as columns: the writer's batch laid out as Arrow arrays, which DuckDB's
//! appender takes a whole vector (2,048 rows) at a time.
//!
//! Appended row by row, duckdb-rs collects and converts every value of a row (three
//! `Vec`s and 31 conversions, ≈ 13 % of the writer's CPU under load) and DuckDB
//! then dispatches each value on its type. Column by column, a text is copied into
//! its builder and then into DuckDB's vector: the writer takes 5–8 % less CPU per
//! event and a third of the allocations (docs/load.md).

use std::sync::Arc;

use duckdb::arrow::array::{
    ArrayBuilder, ArrayRef, BooleanBuilder, Date32Builder, StringBuilder,
    TimestampMicrosecondBuilder, UInt8Builder, UInt32Builder, UInt64Builder,
};
use duckdb::arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use duckdb::arrow::error::ArrowError;
use duckdb::arrow::record_batch::RecordBatch;

use crate::event::EventView;

/// Rows per record batch: DuckDB's vector size, so each batch is one data chunk.
pub const CHUNK_ROWS: usize = 2048;

/// One builder per value type, so a field of the event goes in as it is.
trait Put<T> {
    fn put(&mut self, value: T);
}

impl Put<&str> for StringBuilder {
    fn put(&mut self, value: &str) {
        self.append_value(value);
    }
}

impl Put<Option<&str>> for StringBuilder {
    fn put(&mut self, value: Option<&str>) {
        self.append_option(value);
    }
}

impl Put<bool> for BooleanBuilder {
    fn put(&mut self, value: bool) {
        self.append_value(value);
    }
}

macro_rules! put_primitive {
    ($($builder:ty: $value:ty),*) => {$(
        impl Put<$value> for $builder {
            fn put(&mut self, value: $value) {
                self.append_value(value);
            }
        }
        impl Put<Option<$value>> for $builder {
            fn put(&mut self, value: Option<$value>) {
                self.append_option(value);
            }
        }
    )*};
}

put_primitive!(
    TimestampMicrosecondBuilder: i64,
    Date32Builder: i32,
    UInt8Builder: u8,
    UInt32Builder: u32,
    UInt64Builder: u64
);

/// The columns of `events` in the table's order (sql/duckdb/migrations/): column name,
/// the [`EventView`] field it holds, its builder and Arrow type. The appender is
/// positional; a unit test holds this list to the table.
macro_rules! event_columns {
    ($($column:ident <- $field:ident: $builder:ty = $data_type:expr;)*) => {
        /// Builders for a chunk of events, column by column.
        pub struct EventColumns {
            schema: SchemaRef,
            $($column: $builder,)*
        }

        impl EventColumns {
            pub fn new() -> Self {
                let schema = Schema::new(vec![
                    $(Field::new(stringify!($column), $data_type, true),)*
                ]);
                Self {
                    schema: Arc::new(schema),
                    $($column: <$builder>::new(),)*
                }
            }

            pub fn push(&mut self, event: &EventView<'_>) {
                $(Put::put(&mut self.$column, event.$field);)*
            }

            /// The rows pushed since the last `finish`, as a record batch; the
            /// builders start empty again.
            pub fn finish(&mut self) -> Result<RecordBatch, ArrowError> {
                let columns: Vec<ArrayRef> = vec![$(Arc::new(self.$column.finish()),)*];
                RecordBatch::try_new(self.schema.clone(), columns)
            }
        }
    };
}

event_columns! {
    ts <- ts_micros: TimestampMicrosecondBuilder = DataType::Timestamp(TimeUnit::Microsecond, None);
    site <- site: StringBuilder = DataType::Utf8;
    name <- name: StringBuilder = DataType::Utf8;
    hostname <- hostname: StringBuilder = DataType::Utf8;
    pathname <- pathname: StringBuilder = DataType::Utf8;
    visitor_id <- visitor_id: UInt64Builder = DataType::UInt64;
    session_id <- session_id: UInt64Builder = DataType::UInt64;
    referrer <- referrer: StringBuilder = DataType::Utf8;
    source <- source: StringBuilder = DataType::Utf8;
    channel <- channel: StringBuilder = DataType::Utf8;
    utm_source <- utm_source: StringBuilder = DataType::Utf8;
    utm_medium <- utm_medium: StringBuilder = DataType::Utf8;
    utm_campaign <- utm_campaign: StringBuilder = DataType::Utf8;
    utm_content <- utm_content: StringBuilder = DataType::Utf8;
    utm_term <- utm_term: StringBuilder = DataType::Utf8;
    country <- country: StringBuilder = DataType::Utf8;
    region <- region: StringBuilder = DataType::Utf8;
    city <- city: StringBuilder = DataType::Utf8;
    browser <- browser: StringBuilder = DataType::Utf8;
    browser_version <- browser_version: StringBuilder = DataType::Utf8;
    os <- os: StringBuilder = DataType::Utf8;
    os_version <- os_version: StringBuilder = DataType::Utf8;
    device <- device: StringBuilder = DataType::Utf8;
    screen <- screen: StringBuilder = DataType::Utf8;
    connection_type <- connection_type: StringBuilder = DataType::Utf8;
    save_data <- save_data: BooleanBuilder = DataType::Boolean;
    props <- props: StringBuilder = DataType::Utf8;
    scroll_depth <- scroll_depth: UInt8Builder = DataType::UInt8;
    engaged_ms <- engaged_ms: UInt32Builder = DataType::UInt32;
    interactive <- interactive: BooleanBuilder = DataType::Boolean;
    visit_day <- visit_day: Date32Builder = DataType::Date32;
}

impl EventColumns {
    /// Rows pushed since the last [`finish`](Self::finish).
    pub fn len(&self) -> usize {
        // Every column holds one value per row pushed; the first one counts them.
        self.ts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The column names, in order (for the test that holds them to the table).
    #[cfg(test)]
    pub fn names(&self) -> Vec<String> {
        self.schema
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect()
    }
}

impl Default for EventColumns {
    fn default() -> Self {
        Self::new()
    }
}
