//! A canary for data-parallel training on the CPU (docs/data-parallel.md).
//!
//! Training on several devices goes through burn's own machinery (`DistributedContext`,
//! `all_reduce`), never a home-made reduction. burn 0.22.1 implements collectives only on CUDA
//! (NCCL, through cubecl); its CPU backends `flex` and `ndarray` declare no distributed support
//! and panic on `DistributedContext::init`. This test pins that fact: when a burn upgrade adds
//! collectives to a CPU backend it fails, and the two-CPU-device equality check of the toolkit
//! issue (gradients of the global batch equal the single-device ones to 1e-6) can then be
//! written against the real machinery.

use std::panic::{AssertUnwindSafe, catch_unwind};

use burn::tensor::Device;
use burn::tensor::distributed::{DistributedConfig, DistributedContext, ReduceOperation};

fn panic_text(payload: Box<dyn std::any::Any + Send>) -> String {
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default()
}

#[test]
#[allow(deprecated)] // `Device::ndarray`: burn deprecates the backend, not its device.
fn burn_cpu_backends_have_no_collectives_yet() {
    for (name, device) in [("flex", Device::flex()), ("ndarray", Device::ndarray())] {
        let config = DistributedConfig {
            all_reduce_op: ReduceOperation::Mean,
        };
        let devices = vec![device.clone(), device];
        let started = catch_unwind(AssertUnwindSafe(|| {
            DistributedContext::init(devices, config)
        }));
        match started {
            Ok(_) => panic!(
                "burn now starts a communication server on {name}: write the two-device \
                 data-parallel equality test (docs/data-parallel.md) and remove this canary"
            ),
            Err(payload) => {
                let text = panic_text(payload);
                assert!(
                    text.contains("not supported"),
                    "{name}: unexpected failure: {text}"
                );
            }
        }
    }
}
