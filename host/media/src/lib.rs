//! plenum-media
