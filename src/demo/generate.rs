//! Generated demo incidents at any size (placeholder until it is written).
