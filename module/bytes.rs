// SPDX-License-Identifier: GPL-2.0

//! Byte views of the fixed-size C strings in the ABI's records.

/// The bytes of a NUL-terminated buffer before its NUL.
pub(crate) fn until_nul(b: &[u8]) -> &[u8] {
    &b[..b.iter().position(|&c| c == 0).unwrap_or(b.len())]
}

/// `c_char` arrays as bytes (`c_char` is `i8` or `u8` depending on the
/// target; both have the layout of `u8`).
pub(crate) fn bytes_of(s: &[kernel::ffi::c_char]) -> &[u8] {
    // SAFETY: `c_char` has the size and alignment of `u8` and every bit
    // pattern is a valid `u8`; the length and lifetime are those of `s`.
    unsafe { core::slice::from_raw_parts(s.as_ptr() as *const u8, s.len()) }
}

/// `c_char` arrays as mutable bytes.
pub(crate) fn bytes_of_mut(s: &mut [kernel::ffi::c_char]) -> &mut [u8] {
    // SAFETY: as in `bytes_of`; the borrow is exclusive for its lifetime.
    unsafe { core::slice::from_raw_parts_mut(s.as_mut_ptr() as *mut u8, s.len()) }
}
