//! Global instances. Spec: <https://webassembly.github.io/spec/core/exec/runtime.html#global-instances>.
//!
//! Each global is boxed by the store so its cell has a stable address that native code
//! can read and write directly.

use crate::module::GlobalType;

#[derive(Debug)]
#[repr(C)]
pub struct GlobalInstance {
    /// The raw cell (see `Value::to_raw`); a `v128` uses all 128 bits.
    pub value: u128,
    pub ty: GlobalType,
}
