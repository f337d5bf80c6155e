//! The procedural image sets: shapes, sizes, labels, reproducibility, batches, and that the
//! classes are distinguishable (a nearest-centroid classifier separates them).

use sysdyn_data::images::{DigitsConfig, Shape, ShapesConfig};
use sysdyn_data::{DataError, EpochBatcher, LabelledImages};

/// Accuracy of the nearest class mean (fitted on `train`) on `test`.
fn nearest_centroid_accuracy(train: &LabelledImages, test: &LabelledImages) -> f64 {
    let len = train.image_len();
    let mut centroids = vec![vec![0.0; len]; train.classes];
    let mut counts = vec![0usize; train.classes];
    for i in 0..train.len() {
        let l = train.labels[i];
        counts[l] += 1;
        for (c, v) in centroids[l].iter_mut().zip(train.image(i).unwrap()) {
            *c += v;
        }
    }
    for (c, n) in centroids.iter_mut().zip(&counts) {
        c.iter_mut().for_each(|v| *v /= (*n).max(1) as f64);
    }
    let correct = (0..test.len())
        .filter(|&i| {
            let image = test.image(i).unwrap();
            let best = (0..test.classes)
                .min_by(|&a, &b| {
                    let d = |k: usize| -> f64 {
                        centroids[k]
                            .iter()
                            .zip(image)
                            .map(|(c, v)| (c - v) * (c - v))
                            .sum()
                    };
                    d(a).total_cmp(&d(b))
                })
                .unwrap();
            best == test.labels[i]
        })
        .count();
    correct as f64 / test.len() as f64
}

#[test]
fn digits_have_labels_ink_and_are_learnable() {
    let config = DigitsConfig::default();
    let train = config.generate(1000, 1).unwrap();
    let test = config.generate(300, 2).unwrap();
    assert_eq!(train.labels.iter().filter(|&&l| l == 7).count(), 100);
    assert!(train.pixels.iter().all(|v| (0.0..=1.0).contains(v)));
    for i in 0..20 {
        let ink: f64 = train.image(i).unwrap().iter().sum();
        // Strokes of 2–3.4 pixels over a glyph about 17 pixels tall: tens of pixels of ink.
        assert!((20.0..350.0).contains(&ink), "image {i}: ink {ink}");
        // Anti-aliased: some pixels are partly covered.
        assert!(
            train
                .image(i)
                .unwrap()
                .iter()
                .any(|v| *v > 0.05 && *v < 0.95)
        );
        // The border rows stay nearly empty: the glyph lies inside the image.
        let border: f64 = train.image(i).unwrap()[..28].iter().sum();
        assert!(border < 3.0, "image {i}: border ink {border}");
    }
    // A linear template classifier already does far better than the 10 % of guessing.
    let accuracy = nearest_centroid_accuracy(&train, &test);
    assert!(accuracy > 0.5, "nearest-centroid accuracy {accuracy}");
    // 32 × 32 works too.
    let big = DigitsConfig {
        side: 32,
        ..DigitsConfig::default()
    }
    .generate(10, 1)
    .unwrap();
    assert_eq!((big.rows, big.cols, big.pixels.len()), (32, 32, 10 * 1024));
}

#[test]
fn shapes_are_labelled_reproducible_and_learnable() {
    let config = ShapesConfig::default();
    let a = config.generate(400, 9).unwrap();
    let b = config.generate(500, 9).unwrap();
    // Image i depends only on the seed and i.
    assert_eq!(a.pixels[..], b.pixels[..a.pixels.len()]);
    assert_eq!(a.labels[..], b.labels[..400]);
    assert_ne!(
        config.generate(10, 10).unwrap().pixels,
        b.pixels[..10 * 784]
    );
    for shape in Shape::ALL {
        let n = a.labels.iter().filter(|&&l| l == shape.label()).count();
        assert!((50..110).contains(&n), "{}: {n} of 400", shape.name());
    }
    // Every image has its shape inside: ink, no ink on the outermost ring of pixels.
    for i in 0..a.len() {
        let image = a.image(i).unwrap();
        assert!(image.iter().sum::<f64>() > 10.0);
        let edge: f64 = (0..28)
            .flat_map(|k| [k, 27 * 28 + k, k * 28, k * 28 + 27])
            .map(|p| image[p])
            .sum();
        assert!(edge < 1e-9, "image {i}: ink on the border");
    }
    let test = config.generate(200, 77).unwrap();
    let accuracy = nearest_centroid_accuracy(&a, &test);
    assert!(accuracy > 0.3, "nearest-centroid accuracy {accuracy}");
    // RGB, 32 × 32: three planes of one colour.
    let rgb = ShapesConfig {
        side: 32,
        channels: 3,
        ..ShapesConfig::default()
    }
    .generate(5, 1)
    .unwrap();
    assert_eq!(rgb.pixels.len(), 5 * 3 * 32 * 32);
    let image = rgb.image(0).unwrap();
    let peak = |c: usize| {
        image[c * 1024..(c + 1) * 1024]
            .iter()
            .copied()
            .fold(0.0, f64::max)
    };
    assert!((0..3).map(peak).fold(0.0, f64::max) > 0.99);
}

#[test]
fn bad_configurations_are_typed_errors() {
    let err = ShapesConfig {
        channels: 2,
        ..ShapesConfig::default()
    }
    .generate(1, 0)
    .unwrap_err();
    assert!(matches!(err, DataError::InvalidArgument { .. }), "{err:?}");
    assert!(err.to_string().contains("use 1 (grey) or 3 (RGB)"), "{err}");
    assert!(
        ShapesConfig {
            side: 4,
            ..ShapesConfig::default()
        }
        .generate(1, 0)
        .is_err()
    );
    assert!(
        DigitsConfig {
            thickness: [0.2, 0.1],
            ..DigitsConfig::default()
        }
        .generate(1, 0)
        .is_err()
    );
    assert!(
        DigitsConfig {
            shift: f64::NAN,
            ..DigitsConfig::default()
        }
        .generate(1, 0)
        .is_err()
    );
}

#[test]
fn batches_gather_images_and_cover_an_epoch() {
    let set = DigitsConfig::default().generate(25, 3).unwrap();
    let mut batcher = EpochBatcher::new(set.len(), 8, 1).unwrap();
    let mut seen = Vec::new();
    for _ in 0..batcher.batches_per_epoch() {
        let indices = batcher.next_batch();
        let batch = set.gather(&indices).unwrap();
        assert_eq!(batch.shape, [indices.len(), 1, 28, 28]);
        assert_eq!(batch.pixels[..784], *set.image(indices[0]).unwrap());
        let one_hot = batch.one_hot(10);
        assert_eq!(one_hot[batch.labels[0]], 1.0);
        assert_eq!(one_hot.iter().sum::<f64>(), indices.len() as f64);
        seen.extend(indices);
    }
    seen.sort();
    assert_eq!(seen, (0..25).collect::<Vec<_>>());
    assert_eq!(batcher.epoch(), 0);
    let next = batcher.next_batch();
    assert_eq!(batcher.epoch(), 1);
    assert_eq!(next, batcher.epoch_batches(1)[0]);
    assert_ne!(batcher.epoch_order(0), batcher.epoch_order(1));
    assert!(set.gather(&[25]).is_err());
    assert!(EpochBatcher::new(0, 1, 0).is_err());
    assert!(EpochBatcher::new(3, 4, 0).unwrap().drop_last(true).is_err());
    let dropped = EpochBatcher::new(10, 4, 0)
        .unwrap()
        .drop_last(true)
        .unwrap();
    assert_eq!(
        dropped
            .epoch_batches(3)
            .iter()
            .map(Vec::len)
            .collect::<Vec<_>>(),
        [4, 4]
    );
    // Toy points batch the same way.
    let points = [0.0, 1.0, 2.0, 3.0, 4.0, 5.0];
    assert_eq!(
        sysdyn_data::gather_rows(&points, 2, &[2, 0]).unwrap(),
        [4.0, 5.0, 0.0, 1.0]
    );
    assert!(sysdyn_data::gather_rows(&points, 2, &[3]).is_err());
}
