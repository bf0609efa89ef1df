//! Placeholder until the mapping lands.
use crate::flatten::Record;

#[derive(Default)]
pub struct Mapper;

impl Mapper {
    pub fn new() -> Self {
        Mapper
    }

    pub fn map(&mut self, record: &Record<'_, '_>, out: &mut Vec<u8>) {
        out.extend_from_slice(b"{\"incident_id\":");
        crate::flatten::write_str(out, record.incident_id().unwrap_or("")).unwrap();
        out.extend_from_slice(b"}\n");
    }
}
