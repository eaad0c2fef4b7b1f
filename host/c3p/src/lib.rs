//! plenum-c3p
