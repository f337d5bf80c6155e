//! Dead-code restart: codes unused for `T` updates (or with an EMA count below a threshold)
//! are re-initialised to rows of the batch's encoder outputs, the batch then uses more codes,
//! and the draw is reproducible from the seed.

use std::sync::OnceLock;

use burn::tensor::Tensor;
use sysdyn_core::device::{DeviceSpec, SysDevice};
use sysdyn_core::rng::SeededRng;
use sysdyn_generative::GenerativeError;
use sysdyn_generative::vq::{
    CodeUsage, Codebook, DeadCodeRestart, DeadCodeRule, EmaCodebook, EmaConfig, QuantiserConfig,
};

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

fn to_vec<const D: usize>(t: Tensor<D>) -> Vec<f64> {
    t.into_data().convert::<f64>().try_to_vec::<f64>().unwrap()
}

/// 8 codes of width 2: codes 0–3 at the corners (±1, ±1), codes 4–7 far away at (50 + i, 50).
fn codebook() -> Codebook {
    let mut values = vec![-1.0, -1.0, -1.0, 1.0, 1.0, -1.0, 1.0, 1.0];
    for i in 0..4 {
        values.extend([50.0 + i as f64, 50.0]);
    }
    Codebook::from_vectors(device().tensor(values, [8, 2]).unwrap()).unwrap()
}

/// 40 outputs scattered around the four corners.
fn batch(seed: u64) -> (Vec<f64>, Tensor<2>) {
    let mut rng = SeededRng::new(seed);
    let corners = [[-1.0, -1.0], [-1.0, 1.0], [1.0, -1.0], [1.0, 1.0]];
    let values: Vec<f64> = (0..40)
        .flat_map(|j| {
            let c = corners[j % 4];
            [c[0] + 0.3 * rng.normal(), c[1] + 0.3 * rng.normal()]
        })
        .collect();
    (values.clone(), device().tensor(values, [40, 2]).unwrap())
}

fn is_a_row_of(vector: &[f64], rows: &[f64]) -> bool {
    rows.chunks(2).any(|row| row == vector)
}

#[test]
fn codes_unused_for_t_updates_restart_at_batch_outputs_and_usage_rises() {
    let mut codebook = codebook();
    let mut restart = DeadCodeRestart::new(&codebook, DeadCodeRule::Unused { steps: 2 }).unwrap();
    let (values, z) = batch(1);
    let mut rng = SeededRng::new(7);

    let codes = codebook.assign(z.clone()).unwrap();
    let before = CodeUsage::of(8, &codes).unwrap();
    assert_eq!(before.used(), 4);
    // First update: the far codes have been idle once, not yet T = 2 times.
    let restarted = restart
        .restart(&mut codebook, None, z.clone(), &codes, &mut rng)
        .unwrap();
    assert!(restarted.is_empty());
    assert_eq!(
        to_vec(restart.idle.val()),
        vec![0.0, 0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 1.0]
    );
    // Second update: idle twice, restarted.
    let restarted = restart
        .restart(&mut codebook, None, z.clone(), &codes, &mut rng)
        .unwrap();
    assert_eq!(restarted, vec![4, 5, 6, 7]);
    assert_eq!(to_vec(restart.idle.val()), vec![0.0; 8]);
    let vectors = to_vec(codebook.vectors.val());
    assert_eq!(&vectors[..8], &[-1.0, -1.0, -1.0, 1.0, 1.0, -1.0, 1.0, 1.0]);
    for code in 4..8 {
        assert!(
            is_a_row_of(&vectors[2 * code..2 * code + 2], &values),
            "code {code} = {:?} is not an encoder output",
            &vectors[2 * code..2 * code + 2]
        );
    }
    // Each restarted code sits on an output (distance 0), so the batch uses more codes.
    let after = CodeUsage::of(8, &codebook.assign(z).unwrap()).unwrap();
    assert!(
        after.used() > before.used(),
        "{} → {}",
        before.used(),
        after.used()
    );
    assert!(after.perplexity() > before.perplexity());
}

#[test]
fn the_restart_is_reproducible_from_the_seed() {
    let draw = |seed: u64| {
        let mut codebook = codebook();
        let mut restart =
            DeadCodeRestart::new(&codebook, DeadCodeRule::Unused { steps: 1 }).unwrap();
        let (_, z) = batch(2);
        let codes = codebook.assign(z.clone()).unwrap();
        restart
            .restart(&mut codebook, None, z, &codes, &mut SeededRng::new(seed))
            .unwrap();
        to_vec(codebook.vectors.val())
    };
    assert_eq!(draw(3), draw(3));
    assert_ne!(draw(3), draw(4));
}

#[test]
fn an_ema_count_below_the_threshold_restarts_the_code_and_its_averages() {
    let mut codebook = codebook();
    let mut ema = EmaCodebook::new(
        &codebook,
        EmaConfig {
            decay: 0.5,
            epsilon: 1e-5,
        },
    )
    .unwrap();
    let threshold = 0.3;
    let mut restart =
        DeadCodeRestart::new(&codebook, DeadCodeRule::EmaCountBelow { count: threshold }).unwrap();
    let (values, z) = batch(3);
    let mut rng = SeededRng::new(1);
    let codes = codebook.assign(z.clone()).unwrap();
    // N of an unused code halves per update: 0.5, then 0.25 < 0.3 at the second.
    for (update, expected) in [(0, vec![]), (1, vec![4, 5, 6, 7])] {
        ema.update(&mut codebook, z.clone(), &codes).unwrap();
        let restarted = restart
            .restart(&mut codebook, Some(&mut ema), z.clone(), &codes, &mut rng)
            .unwrap();
        assert_eq!(restarted, expected, "update {update}");
    }
    let counts = to_vec(ema.counts.val());
    let sums = to_vec(ema.sums.val());
    let vectors = to_vec(codebook.vectors.val());
    for code in 4..8 {
        let vector = &vectors[2 * code..2 * code + 2];
        assert!(is_a_row_of(vector, &values));
        // A fresh code: N = threshold, m = threshold · e.
        assert_eq!(counts[code], threshold);
        assert_eq!(sums[2 * code], threshold * vector[0]);
        assert_eq!(sums[2 * code + 1], threshold * vector[1]);
    }
}

#[test]
fn bad_rules_are_typed_errors() {
    let codebook = codebook();
    for rule in [
        DeadCodeRule::Unused { steps: 0 },
        DeadCodeRule::EmaCountBelow { count: 0.0 },
        DeadCodeRule::EmaCountBelow { count: f64::NAN },
    ] {
        assert!(matches!(
            DeadCodeRestart::new(&codebook, rule),
            Err(GenerativeError::InvalidParameter { .. })
        ));
    }
    // A count rule needs EMA counts.
    let mut codebook = codebook;
    let mut restart =
        DeadCodeRestart::new(&codebook, DeadCodeRule::EmaCountBelow { count: 1.0 }).unwrap();
    let (_, z) = batch(4);
    let codes = codebook.assign(z.clone()).unwrap();
    assert!(matches!(
        restart.restart(&mut codebook, None, z, &codes, &mut SeededRng::new(0)),
        Err(GenerativeError::Unsupported { .. })
    ));
    assert!(matches!(
        QuantiserConfig::new(8, 2)
            .with_restart(DeadCodeRule::EmaCountBelow { count: 1.0 })
            .validate(),
        Err(GenerativeError::Unsupported { .. })
    ));
}
