//! Measurement helpers for the size images and the benchmark: stack painting and its high-water
//! mark, and a tiny `key=value` report over semihosting that needs no `core::fmt`.

use cortex_m_semihosting::hio;

/// The word the free stack is filled with before a measurement.
pub const PAINT: u32 = 0x5EED_C0DE;

extern "C" {
    // Both from cortex-m-rt's link.x: the initial stack pointer (top of RAM) and the lowest
    // address the stack may grow to (end of .bss, 4-byte aligned).
    static _stack_start: u32;
    static _stack_end: u32;
}

fn stack_top() -> usize {
    // Only the address of the linker symbol is taken; it is never read.
    core::ptr::addr_of!(_stack_start) as usize
}

fn stack_bottom() -> usize {
    core::ptr::addr_of!(_stack_end) as usize
}

/// Bytes left unpainted just below the stack pointer: the compiler may read the stack pointer
/// before this function pushes its own frame.
const MARGIN: usize = 256;

/// Fills every word of the stack region below the current stack pointer (less a small margin)
/// with [`PAINT`]. Call it first thing in `main`; nothing lives below the stack pointer, so
/// nothing is overwritten.
#[inline(never)]
pub fn paint_stack() {
    let sp = (cortex_m::register::msp::read() as usize).saturating_sub(MARGIN);
    let mut p = stack_bottom().next_multiple_of(4);
    while p + 4 <= sp {
        // SAFETY: `p` is word-aligned, inside RAM between the end of .bss and the stack
        // pointer, i.e. in memory no frame or static uses.
        unsafe { core::ptr::write_volatile(p as *mut u32, PAINT) };
        p += 4;
    }
}

/// The most stack used since [`paint_stack`], in bytes: from the top of RAM down to the lowest
/// word that no longer holds [`PAINT`]. Counts every frame from reset on, including `main`'s.
#[inline(never)]
pub fn stack_high_water() -> u32 {
    let top = stack_top();
    let mut p = stack_bottom().next_multiple_of(4);
    while p < top {
        // SAFETY: word-aligned address in RAM below the stack top.
        if unsafe { core::ptr::read_volatile(p as *const u32) } != PAINT {
            break;
        }
        p += 4;
    }
    (top - p) as u32
}

/// Writes `name key=value ...` and a newline to the semihosting console.
pub fn report(name: &[u8], values: &[(&[u8], u32)]) {
    let Ok(mut out) = hio::hstdout() else {
        return;
    };
    let _ = out.write_all(name);
    for &(key, value) in values {
        let _ = out.write_all(b" ");
        let _ = out.write_all(key);
        let _ = out.write_all(b"=");
        let mut digits = [0u8; 10];
        let mut n = value;
        let mut len = 0;
        for d in digits.iter_mut().rev() {
            *d = b'0' + (n % 10) as u8;
            n /= 10;
            len += 1;
            if n == 0 {
                break;
            }
        }
        if let Some(text) = digits.get(digits.len() - len..) {
            let _ = out.write_all(text);
        }
    }
    let _ = out.write_all(b"\n");
}
