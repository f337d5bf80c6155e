//! ε-, x₀- and v-prediction: each conversion agrees with the definitions
//! `x_t = a x₀ + σ ε`, `v = a ε − σ x₀` and round-trips exactly.

use std::sync::OnceLock;

use burn::tensor::Tensor;
use sysdyn_core::device::{DeviceSpec, SysDevice};
use sysdyn_core::rng::SeededRng;
use sysdyn_generative::diffusion::{Coefficients, Marginal, NoiseSchedule, Prediction};

fn device() -> SysDevice {
    static DEVICE: OnceLock<SysDevice> = OnceLock::new();
    DEVICE
        .get_or_init(|| {
            let mut device: SysDevice = "flex:f64".parse::<DeviceSpec>().unwrap().init().unwrap();
            device.configure_defaults().unwrap();
            device
        })
        .clone()
}

fn values(t: Tensor<2>) -> Vec<f64> {
    t.into_data().convert::<f64>().try_to_vec::<f64>().unwrap()
}

fn assert_close(a: Tensor<2>, b: Tensor<2>, tol: f64, what: &str) {
    let (a, b) = (values(a), values(b));
    for (x, y) in a.iter().zip(&b) {
        assert!((x - y).abs() <= tol * (1.0 + y.abs()), "{what}: {x} vs {y}");
    }
}

#[test]
fn conversions_agree_with_the_definitions_and_round_trip() {
    let device = device();
    let schedule = NoiseSchedule::cosine_default(1000).unwrap();
    let steps = [0usize, 1, 50, 500, 900, 998];
    let marginals: Vec<Marginal> = steps
        .iter()
        .map(|&t| schedule.marginal(t).unwrap())
        .collect();
    for m in &marginals {
        assert!((m.signal * m.signal + m.noise * m.noise - 1.0).abs() < 1e-14);
    }
    let coefficients = Coefficients::rows(&device, &marginals).unwrap();
    let mut rng = SeededRng::new(11);
    let x0 = device.randn(&mut rng, [steps.len(), 3]);
    let epsilon = device.randn(&mut rng, [steps.len(), 3]);
    let x_t = coefficients.noised(x0.clone(), epsilon.clone());

    // The definitions, row by row on the host.
    let (hx0, heps, hxt) = (
        values(x0.clone()),
        values(epsilon.clone()),
        values(x_t.clone()),
    );
    let v = coefficients.velocity(x0.clone(), epsilon.clone());
    let hv = values(v.clone());
    for (row, m) in marginals.iter().enumerate() {
        for j in 0..3 {
            let i = row * 3 + j;
            assert!((hxt[i] - (m.signal * hx0[i] + m.noise * heps[i])).abs() < 1e-14);
            assert!((hv[i] - (m.signal * heps[i] - m.noise * hx0[i])).abs() < 1e-14);
        }
    }

    // Each kind's target, converted to every kind, is that kind's target.
    let kinds = [Prediction::Epsilon, Prediction::Data, Prediction::Velocity];
    let target = |kind: Prediction| kind.target(&coefficients, x0.clone(), epsilon.clone());
    for from in kinds {
        for to in kinds {
            let converted = from.convert(to, &coefficients, x_t.clone(), target(from));
            // Recovering x₀ from ε divides by a = √ᾱ_t (0.0025 at t = 998): allow for it.
            assert_close(
                converted.clone(),
                target(to),
                1e-10,
                &format!("{from:?} → {to:?}"),
            );
            let back = to.convert(from, &coefficients, x_t.clone(), converted);
            assert_close(
                back,
                target(from),
                1e-10,
                &format!("{from:?} → {to:?} → {from:?}"),
            );
        }
    }
    // One step for the whole batch broadcasts the same way.
    let one = Coefficients::uniform(&device, marginals[3]).unwrap();
    let x_t = one.noised(x0.clone(), epsilon.clone());
    let recovered = Prediction::Epsilon.data(&one, x_t, epsilon);
    assert_close(recovered, x0, 1e-13, "uniform coefficients");
}
