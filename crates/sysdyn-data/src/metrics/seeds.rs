//! A score over several seeds: its values, their mean and their sample standard deviation, the
//! form in which every example reports a reproduction (mean ± std over at least three seeds).

use serde::Serialize;

/// The mean and the sample standard deviation (divisor `n − 1`) of `values`; the deviation is 0
/// for fewer than two values, the mean 0 for none.
pub fn mean_and_sample_std(values: &[f64]) -> (f64, f64) {
    let n = values.len().max(1) as f64;
    let mean = values.iter().sum::<f64>() / n;
    if values.len() < 2 {
        return (mean, 0.0);
    }
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean, var.sqrt())
}

/// One score per seed with its mean and sample standard deviation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OverSeeds {
    /// Per seed, in seed order.
    pub values: Vec<f64>,
    /// Mean.
    pub mean: f64,
    /// Sample standard deviation.
    pub std: f64,
}

impl OverSeeds {
    /// The summary of `values`.
    pub fn of(values: Vec<f64>) -> OverSeeds {
        let (mean, std) = mean_and_sample_std(&values);
        OverSeeds { values, mean, std }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mean_and_sample_std_by_hand() {
        // 2, 4, 9: mean 5, squared deviations 9 + 1 + 16 = 26, over n − 1 = 2: 13.
        let (mean, std) = mean_and_sample_std(&[2.0, 4.0, 9.0]);
        assert_eq!(mean, 5.0);
        assert!((std - 13f64.sqrt()).abs() < 1e-15);
        assert_eq!(mean_and_sample_std(&[3.0]), (3.0, 0.0));
        assert_eq!(mean_and_sample_std(&[]), (0.0, 0.0));
        let over = OverSeeds::of(vec![1.0, 3.0]);
        assert_eq!((over.mean, over.std), (2.0, 2f64.sqrt()));
    }
}
