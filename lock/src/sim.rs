//! The simulated BLE radio (in progress).
