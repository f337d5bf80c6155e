//! Classifier accuracy of class-conditional samples.

use crate::error::DataError;

/// How often a classifier recognises the class a conditional sample was generated for.
#[derive(Debug, Clone, PartialEq)]
pub struct ClassAccuracy {
    /// Fraction of samples whose predicted label equals the intended one.
    pub overall: f64,
    /// Per intended class: the fraction recognised, `None` for a class with no samples.
    pub per_class: Vec<Option<f64>>,
}

/// Accuracy of `predicted` labels (from a classifier run on generated samples) against the
/// `intended` labels the samples were conditioned on, over `classes` classes.
///
/// ```
/// use sysdyn_data::metrics::class_accuracy;
///
/// let acc = class_accuracy(&[0, 1, 1, 2], &[0, 1, 2, 2], 4)?;
/// assert_eq!(acc.overall, 0.75);
/// assert_eq!(acc.per_class, vec![Some(1.0), Some(1.0), Some(0.5), None]);
/// # Ok::<(), sysdyn_data::DataError>(())
/// ```
pub fn class_accuracy(
    predicted: &[usize],
    intended: &[usize],
    classes: usize,
) -> Result<ClassAccuracy, DataError> {
    if predicted.len() != intended.len() {
        return Err(DataError::Shape {
            context: "class accuracy",
            expected: format!(
                "one predicted label per intended label ({})",
                intended.len()
            ),
            got: format!("{} predicted labels", predicted.len()),
        });
    }
    if intended.is_empty() {
        return Err(DataError::InvalidArgument {
            context: "class accuracy",
            reason: "no samples given".into(),
        });
    }
    if let Some(label) = predicted.iter().chain(intended).find(|&&l| l >= classes) {
        return Err(DataError::InvalidArgument {
            context: "class accuracy",
            reason: format!("label {label} is not a class 0..{classes}"),
        });
    }
    let mut totals = vec![0usize; classes];
    let mut hits = vec![0usize; classes];
    for (&p, &t) in predicted.iter().zip(intended) {
        totals[t] += 1;
        hits[t] += usize::from(p == t);
    }
    Ok(ClassAccuracy {
        overall: hits.iter().sum::<usize>() as f64 / intended.len() as f64,
        per_class: totals
            .iter()
            .zip(&hits)
            .map(|(&t, &h)| (t > 0).then(|| h as f64 / t as f64))
            .collect(),
    })
}
