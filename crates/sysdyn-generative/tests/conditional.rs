//! Class conditioning: the embedding equals its table's rows, concatenation and the projection
//! score follow their formulas, the table's gradient is the features of the rows of each class,
//! and bad labels are typed errors.

use burn::module::Param;
use burn::tensor::Tensor;
use sysdyn_core::device::{DeviceSpec, SysDevice};
use sysdyn_core::rng::SeededRng;
use sysdyn_generative::GenerativeError;
use sysdyn_generative::gan::LabelEmbedding;

fn device(spec: &str) -> SysDevice {
    spec.parse::<DeviceSpec>().unwrap().init().unwrap()
}

fn host<const D: usize>(t: Tensor<D>) -> Vec<f64> {
    t.into_data().convert::<f64>().try_to_vec::<f64>().unwrap()
}

/// A 4-class, 3-wide embedding whose table is `table` (row-major) on `d`.
fn embedding(d: &SysDevice, table: &[f64]) -> LabelEmbedding {
    let mut e = LabelEmbedding::new(4, 3, d.device(), &mut SeededRng::new(1)).unwrap();
    e.table = Param::from_tensor(d.tensor(table.to_vec(), [4, 3]).unwrap());
    e
}

const TABLE: [f64; 12] = [0.1, 0.2, 0.3, 1.0, 2.0, 3.0, -1.0, 0.0, 1.0, 5.0, -5.0, 0.5];

#[test]
fn embeddings_are_table_rows_and_concatenation_appends_them() {
    let d = device("flex:f64");
    let e = embedding(&d, &TABLE);
    let labels = [2, 0, 3, 2];
    let rows = host(e.embed(&labels).unwrap());
    for (r, &label) in labels.iter().enumerate() {
        assert_eq!(&rows[3 * r..3 * r + 3], &TABLE[3 * label..3 * label + 3]);
    }
    let x = d
        .tensor(vec![7.0, 8.0, 9.0, 10.0, 11.0, 12.0, 13.0, 14.0], [4, 2])
        .unwrap();
    let joined = e.concat(x, &labels).unwrap();
    assert_eq!(joined.dims(), [4, 5]);
    let joined = host(joined);
    assert_eq!(&joined[0..5], &[7.0, 8.0, -1.0, 0.0, 1.0]);
    assert_eq!(&joined[10..15], &[11.0, 12.0, 5.0, -5.0, 0.5]);
}

#[test]
fn the_projection_score_and_its_gradient() {
    let d = device("flex:f64:autodiff");
    let e = embedding(&d, &TABLE);
    let features = vec![1.0, -2.0, 0.5, 0.0, 1.0, 1.0];
    let base = d.tensor(vec![0.25, -0.75], [2, 1]).unwrap();
    let labels = [1, 3];
    let phi = d.tensor(features.clone(), [2, 3]).unwrap();
    let score = host(e.project(base.clone(), phi.clone(), &labels).unwrap());
    // ψ + ⟨e(y), φ⟩ by hand.
    let want = [
        0.25 + (1.0 * 1.0 + 2.0 * -2.0 + 3.0 * 0.5),
        -0.75 + (5.0 * 0.0 + -5.0 * 1.0 + 0.5 * 1.0),
    ];
    for (g, w) in score.iter().zip(want) {
        assert!((g - w).abs() < 1e-12, "{g} vs {w}");
    }
    // d(sum of scores)/d table: φ of the rows labelled with that class, zero elsewhere.
    let grads = e.project(base, phi, &labels).unwrap().sum().backward();
    let table_grad = host(e.table.grad(&grads).unwrap());
    let mut want = [0.0; 12];
    want[3..6].copy_from_slice(&features[0..3]);
    want[9..12].copy_from_slice(&features[3..6]);
    for (g, w) in table_grad.iter().zip(want) {
        assert!((g - w).abs() < 1e-12, "{table_grad:?}");
    }
}

#[test]
fn bad_labels_and_shapes_are_typed_errors() {
    let d = device("flex:f32");
    let e = LabelEmbedding::new(4, 3, d.device(), &mut SeededRng::new(2)).unwrap();
    assert!(matches!(
        e.embed(&[0, 4]),
        Err(GenerativeError::InvalidParameter { .. })
    ));
    assert!(matches!(
        e.embed(&[]),
        Err(GenerativeError::EmptyBatch { .. })
    ));
    let x = d.tensor(vec![0.0; 6], [3, 2]).unwrap();
    assert!(matches!(
        e.concat(x, &[0, 1]),
        Err(GenerativeError::ShapeMismatch { .. })
    ));
    let phi = d.tensor(vec![0.0; 4], [2, 2]).unwrap();
    let base = d.tensor(vec![0.0; 2], [2, 1]).unwrap();
    assert!(matches!(
        e.project(base, phi, &[0, 1]),
        Err(GenerativeError::ShapeMismatch { .. })
    ));
    assert!(matches!(
        LabelEmbedding::new(0, 3, d.device(), &mut SeededRng::new(1)),
        Err(GenerativeError::InvalidParameter { .. })
    ));
}
