//! The columns of morgue's export (docs/formats.md, "Parquet").

use std::sync::Arc;

use arrow_schema::{DataType, Field, Schema, TimeUnit};

/// The morgue-only column that keeps a date exactly as morgue holds it (`1987`, `1987-02`,
/// `1987-02-26`, `1987-02-26T15:01:01Z`): `date` is a timestamp, which cannot say that only the
/// year is known.
pub(crate) const DATE_TEXT: &str = "date_text";

fn list() -> DataType {
    DataType::List(Arc::new(Field::new("item", DataType::Utf8, true)))
}

fn timestamp() -> DataType {
    DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
}

/// The export's schema: the fields of the article JSON object (morgue-model's `FIELDS`), in its
/// order, with `date_text` after `date`; `body` last, unless left out.
pub(crate) fn export_schema(body: bool) -> Schema {
    let utf8 = |name: &str| Field::new(name, DataType::Utf8, false);
    let mut fields = vec![
        utf8("id"),
        utf8("title"),
        Field::new("reporters", list(), false),
        Field::new("translators", list(), false),
        Field::new("editors", list(), false),
        Field::new("writers", list(), false),
        Field::new("services", list(), false),
        utf8("outlet"),
        Field::new("date", timestamp(), true),
        Field::new(DATE_TEXT, DataType::Utf8, true),
        Field::new("date_origin", DataType::Utf8, true),
        utf8("url"),
        utf8("image"),
        utf8("caption"),
        Field::new("tags", list(), false),
        utf8("source_id"),
        utf8("origin"),
        Field::new("imported_at", timestamp(), true),
        utf8("extra"),
    ];
    if body {
        fields.push(utf8("body"));
    }
    Schema::new(fields)
}
