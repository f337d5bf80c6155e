//! The style-based generator: its latent layout, the mapping network's scale invariance, style
//! mixing as exact recombination of two generations, noise that only acts through its learned
//! scales, gradients reaching every part, typed errors.

use std::sync::OnceLock;

use burn::module::{Module, ModuleVisitor, Param};
use burn::tensor::{Gradients, Tensor};
use sysdyn_core::device::{DeviceSpec, SysDevice};
use sysdyn_core::rng::SeededRng;
use sysdyn_generative::GenerativeError;
use sysdyn_generative::gan::{Generator, ImageShape};
use sysdyn_generative::style::{StyleGenerator, StyleGeneratorConfig};

/// Players are built in the device's default float type: f64, set once for this binary.
fn device() -> SysDevice {
    static DEVICE: OnceLock<SysDevice> = OnceLock::new();
    DEVICE
        .get_or_init(|| {
            let mut d: SysDevice = "flex:f64:autodiff"
                .parse::<DeviceSpec>()
                .unwrap()
                .init()
                .unwrap();
            d.configure_defaults().unwrap();
            d
        })
        .clone()
}

fn host<const D: usize>(t: Tensor<D>) -> Vec<f64> {
    t.into_data().convert::<f64>().try_to_vec::<f64>().unwrap()
}

fn config() -> StyleGeneratorConfig {
    StyleGeneratorConfig::new(ImageShape::new(1, 8, 8), 6, 4)
}

fn generator(seed: u64) -> StyleGenerator {
    config()
        .init(device().device(), &mut SeededRng::new(seed))
        .unwrap()
}

fn latent(rows: usize, seed: u64) -> Tensor<2> {
    let width = config().latent_width();
    device()
        .tensor(SeededRng::new(seed).normals(rows * width), [rows, width])
        .unwrap()
}

fn max_difference(a: &[f64], b: &[f64]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max)
}

#[test]
fn the_latent_holds_z_then_one_noise_map_per_synthesis_layer() {
    let c = config();
    // 8×8 with two levels: layers at 2×2, 2×2, 4×4, 4×4, 8×8, 8×8.
    assert_eq!(
        c.layer_sides(),
        vec![(2, 2), (2, 2), (4, 4), (4, 4), (8, 8), (8, 8)]
    );
    assert_eq!(c.style_layers(), 6);
    assert_eq!(c.latent_width(), 6 + 2 * (4 + 16 + 64));
    let g = generator(1);
    assert_eq!(g.latent_width(), c.latent_width());
    let images = host(g.generate(latent(5, 2), None).unwrap());
    assert_eq!(images.len(), 5 * 64);
    assert!(images.iter().all(|v| v.is_finite() && v.abs() <= 1.0));
    // Different codes, different images.
    let other = host(g.generate(latent(5, 3), None).unwrap());
    assert!(max_difference(&images, &other) > 1e-3);
}

#[test]
fn the_mapping_network_sees_only_the_direction_of_z() {
    let g = generator(4);
    let z = device()
        .tensor(SeededRng::new(5).normals(3 * 6), [3, 6])
        .unwrap();
    let w = host(g.style_code(z.clone()).unwrap());
    let w_scaled = host(g.style_code(z.clone().mul_scalar(3.5)).unwrap());
    // Equal up to the ε = 1e-8 under the root of the normalisation.
    assert!(max_difference(&w, &w_scaled) < 1e-7);
    assert!(max_difference(&w, &host(g.style_code(z.add_scalar(0.5)).unwrap())) > 1e-4);
}

#[test]
fn style_mixing_recombines_the_two_generations_exactly() {
    let g = generator(6);
    let (first, second) = (latent(4, 7), latent(4, 8));
    let layers = config().style_layers();
    let all_first = host(
        g.generate_mixed(first.clone(), second.clone(), layers)
            .unwrap(),
    );
    assert!(max_difference(&all_first, &host(g.generate(first.clone(), None).unwrap())) < 1e-12);
    // Crossover 0: every style from `second`, the noise still from `first`.
    let z_width = config().z_width;
    let swapped = Tensor::cat(
        vec![
            second.clone().narrow(1, 0, z_width),
            first
                .clone()
                .narrow(1, z_width, config().latent_width() - z_width),
        ],
        1,
    );
    let all_second = host(g.generate_mixed(first.clone(), second.clone(), 0).unwrap());
    assert!(max_difference(&all_second, &host(g.generate(swapped, None).unwrap())) < 1e-12);
    // A crossover in between differs from both.
    let mixed = host(g.generate_mixed(first, second, 2).unwrap());
    assert!(max_difference(&mixed, &all_first) > 1e-6);
    assert!(max_difference(&mixed, &all_second) > 1e-6);
}

#[test]
fn noise_acts_only_through_its_learned_scales_which_start_at_zero() {
    let g = generator(9);
    let c = config();
    let base = latent(3, 10);
    let mut values = host(base.clone());
    // Change every noise entry, keep z.
    let width = c.latent_width();
    for row in 0..3 {
        for k in c.z_width..width {
            values[row * width + k] += 1.0;
        }
    }
    let changed = device().tensor(values, [3, width]).unwrap();
    let a = host(g.generate(base.clone(), None).unwrap());
    let b = host(g.generate(changed, None).unwrap());
    assert!(
        max_difference(&a, &b) < 1e-12,
        "zero scales must silence the noise"
    );

    // Every parameter, the noise scales among them, gets a gradient from a loss on the images.
    struct Count<'a> {
        grads: &'a Gradients,
        with: usize,
        without: usize,
    }
    impl ModuleVisitor for Count<'_> {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            match param.grad(self.grads) {
                Some(g) if host(g.clone()).iter().any(|v| *v != 0.0) => self.with += 1,
                _ => self.without += 1,
            }
        }
    }
    let target = device()
        .tensor(SeededRng::new(11).normals(3 * 64), [3, 64])
        .unwrap();
    let loss = (g.generate(base, None).unwrap() - target).square().mean();
    let grads = loss.backward();
    let mut count = Count {
        grads: &grads,
        with: 0,
        without: 0,
    };
    g.visit(&mut count);
    assert_eq!(
        count.without, 0,
        "{} parameters without gradient",
        count.without
    );
    assert!(count.with > 20);
}

#[test]
fn bad_sizes_crossovers_and_labels_are_typed_errors() {
    let d = device();
    let g = generator(12);
    assert!(matches!(
        g.generate(d.tensor(vec![0.0; 2 * 10], [2, 10]).unwrap(), None),
        Err(GenerativeError::ShapeMismatch { .. })
    ));
    assert!(matches!(
        g.generate(latent(2, 1), Some(&[0, 1])),
        Err(GenerativeError::Unsupported { .. })
    ));
    assert!(matches!(
        g.generate_mixed(latent(2, 1), latent(2, 2), 7),
        Err(GenerativeError::InvalidParameter {
            name: "crossover",
            ..
        })
    ));
    assert!(matches!(
        StyleGeneratorConfig::new(ImageShape::new(1, 28, 28), 8, 4)
            .with_levels(3)
            .init(d.device(), &mut SeededRng::new(1)),
        Err(GenerativeError::InvalidParameter { name: "levels", .. })
    ));
}
