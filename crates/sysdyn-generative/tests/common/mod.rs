//! Helpers shared by the cross-backend tests (`backends`, `score_backends`,
//! `diffusion_backends`, `flow_backends`, `vae_backends`): read a tensor back, and compare a
//! model's outputs on every f32 test backend with the first backend's.

use burn::tensor::Tensor;
use sysdyn_core::device::SysDevice;
use sysdyn_testing::test_devices_f32;

/// A tensor's values as `f64` on the host.
pub fn host<const D: usize>(t: Tensor<D>) -> Vec<f64> {
    t.into_data().convert::<f64>().try_to_vec::<f64>().unwrap()
}

/// Runs `outputs` on every f32 test device (with or without `autodiff`) and asserts that each
/// output has the first device's length and differs from it by at most `tolerance · scale`,
/// `scale = max(10⁻³, max |reference|)`. With `finite`, the reference values must also be
/// finite. `names` label the outputs; past them (or with none) an output is labelled by its
/// index.
pub fn assert_same_on_every_backend(
    outputs: impl Fn(&SysDevice) -> Vec<Vec<f64>>,
    autodiff: bool,
    names: &[&str],
    tolerance: f64,
    finite: bool,
) {
    let devices = test_devices_f32(autodiff);
    let reference = outputs(&devices[0]);
    for d in &devices[1..] {
        let other = outputs(d);
        for (index, (a, b)) in reference.iter().zip(&other).enumerate() {
            let name = names
                .get(index)
                .map_or_else(|| format!("output {index}"), |n| n.to_string());
            assert_eq!(a.len(), b.len(), "{name} on {}", d.spec());
            if finite {
                assert!(a.iter().all(|v| v.is_finite()), "{name}: {a:?}");
            }
            let scale = a.iter().fold(1e-3f64, |m, v| m.max(v.abs()));
            let worst = a
                .iter()
                .zip(b)
                .map(|(x, y)| (x - y).abs())
                .fold(0.0, f64::max);
            assert!(
                worst <= tolerance * scale,
                "{name}: {} differs from {} by {worst} (scale {scale})",
                d.spec(),
                devices[0].spec()
            );
        }
    }
}
