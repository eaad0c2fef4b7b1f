//! plenum-sip
