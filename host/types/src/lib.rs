//! plenum-types
