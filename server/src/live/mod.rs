//! Live updates: engine readers ([`ff_board_engine::live`]) → one
//! [`bus::Bus`] per board process → every browser over `GET /ws`.
pub mod bus;
pub mod pump;
pub mod ws;
