//! plenum-bundled
