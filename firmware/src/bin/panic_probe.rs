//! Panic-freedom probe of the decision path: loads the shipped model, plays its golden job
//! sets (observe, encode, forward, mask, argmax, the rule projection for traces recorded with
//! rules, apply; for int8 traces the quantization and the int8 network; for tree traces the tree
//! loader, operator features and the tree walk) and checks them against
//! the traces. The
//! panic handler is `panic-never`, so the release build fails to link if any panicking branch
//! is reachable from this code. It also runs under QEMU and exits with the check's result.
#![no_std]
#![no_main]

use core::hint::black_box;

use cortex_m_rt::entry;
use cortex_m_semihosting::debug;
use panic_never as _;
use whitebox_firmware::{load_model, load_tree, replay, replay_tree, Net, GOLDEN, MODELS, TREES};

#[entry]
fn main() -> ! {
    let mut net = Net::zeroed();
    // Every model's bytes go through `black_box`, so the optimiser cannot use their contents:
    // the loader must be free of panicking branches for any input, not just the shipped model.
    let ok = MODELS.iter().enumerate().all(|(m, model)| {
        match load_model(black_box(model), black_box(&mut net)) {
            Ok(mask) => GOLDEN
                .iter()
                .filter(|g| g.model == Some(m))
                .all(|g| match g.int8 {
                    None => replay(black_box(g), black_box(&net), mask).is_ok(),
                    Some(q) => match black_box(q).quantize(black_box(&net)) {
                        Ok(qnet) => replay(black_box(g), black_box(&qnet), mask).is_ok(),
                        Err(_) => false,
                    },
                }),
            Err(_) => false,
        }
    }) && TREES.iter().enumerate().all(|(i, file)| {
        // The tree bytes go through `black_box` too: the tree loader for any input.
        match load_tree(black_box(file)) {
            Ok(tree) => GOLDEN
                .iter()
                .filter(|g| g.tree == Some(i))
                .all(|g| replay_tree(black_box(g), black_box(&tree)).is_ok()),
            Err(_) => false,
        }
    });
    debug::exit(if ok {
        debug::EXIT_SUCCESS
    } else {
        debug::EXIT_FAILURE
    });
    loop {
        cortex_m::asm::nop();
    }
}
