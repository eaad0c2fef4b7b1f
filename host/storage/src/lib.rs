//! plenum-storage
