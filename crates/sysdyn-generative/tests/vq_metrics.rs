//! Code usage and perplexity: a uniform assignment over `K` codes has perplexity `K`, a single
//! code 1, a skewed one `exp(H)` by hand; counts accumulate over batches.

use sysdyn_generative::GenerativeError;
use sysdyn_generative::vq::CodeUsage;

#[test]
fn perplexity_is_k_for_a_uniform_assignment_and_one_for_a_single_code() {
    for k in [1, 2, 7, 512] {
        let uniform: Vec<usize> = (0..3 * k).map(|i| i % k).collect();
        let usage = CodeUsage::of(k, &uniform).unwrap();
        assert!(
            (usage.perplexity() - k as f64).abs() < 1e-9 * k as f64,
            "K = {k}"
        );
        assert_eq!(usage.fraction_used(), 1.0);

        let single = vec![k - 1; 40];
        let usage = CodeUsage::of(k, &single).unwrap();
        assert_eq!(usage.perplexity(), 1.0);
        assert_eq!(usage.used(), 1);
        assert_eq!(usage.fraction_used(), 1.0 / k as f64);
    }
}

#[test]
fn perplexity_of_a_skewed_assignment_is_the_exponential_of_its_entropy() {
    // p = (3/4, 1/4, 0, 0): H = −(3/4) ln(3/4) − (1/4) ln(1/4).
    let usage = CodeUsage::of(4, &[0, 0, 1, 0]).unwrap();
    let entropy = -0.75 * 0.75f64.ln() - 0.25 * 0.25f64.ln();
    assert!((usage.perplexity() - entropy.exp()).abs() < 1e-15);
    assert_eq!(usage.fraction_used(), 0.5);
    // Two codes used: the perplexity lies between 1 and 2.
    assert!(usage.perplexity() > 1.0 && usage.perplexity() < 2.0);
}

#[test]
fn counts_accumulate_over_batches() {
    let batches: [&[usize]; 3] = [&[0, 1, 1], &[2], &[1, 4, 4, 4]];
    let mut usage = CodeUsage::new(6).unwrap();
    for batch in batches {
        usage.record(batch).unwrap();
    }
    let all: Vec<usize> = batches.concat();
    assert_eq!(usage, CodeUsage::of(6, &all).unwrap());
    assert_eq!(usage.counts(), &[1, 3, 1, 0, 3, 0]);
    assert_eq!(usage.total(), 8);
    assert_eq!(usage.used(), 4);
}

#[test]
fn bad_input_is_a_typed_error() {
    assert!(matches!(
        CodeUsage::new(0),
        Err(GenerativeError::InvalidParameter { .. })
    ));
    let mut usage = CodeUsage::new(3).unwrap();
    assert!(matches!(
        usage.record(&[0, 3]),
        Err(GenerativeError::InvalidParameter { .. })
    ));
    // Nothing was recorded from the refused batch.
    assert_eq!(usage.total(), 0);
    assert_eq!(usage.perplexity(), 1.0);
}
