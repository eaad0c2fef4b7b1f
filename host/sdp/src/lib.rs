//! plenum-sdp
