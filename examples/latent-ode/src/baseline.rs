//! The RNN baseline: a GRU forecaster that reads the observations in time order together with
//! the time gap since the previous observation, and predicts the value at any later time from
//! its state and the gap to that time (`head([h, Δt])`). Trained by one-step-ahead prediction
//! (teacher forcing) on the observed points; extrapolates autoregressively, feeding its own
//! predictions back as observations.

use burn::module::Module;
use burn::tensor::Tensor;
use sysdyn_core::device::SysDevice;
use sysdyn_core::jet::{Mlp, MlpConfig};
use sysdyn_core::rng::SeededRng;
use sysdyn_nodes::latent::seeded_gru;
use sysdyn_nodes::rnn::{Gru, RecurrentCell};
use sysdyn_nodes::{IrregularSeries, NodeError};

/// GRU state width.
pub const HIDDEN: usize = 25;

/// A GRU over `[observation, gap]` and a prediction head over `[state, gap]`.
#[derive(Module, Debug)]
pub struct GruForecaster {
    /// The recurrent cell.
    pub gru: Gru,
    /// `[hidden + 1] → 20 → 2`, tanh.
    pub head: Mlp,
}

/// Predictions over a window: at every grid time, the value predicted from the observations
/// before it, and the mask of points that have an earlier observation and are observed (the
/// training targets).
pub struct WindowForecast {
    /// `[batch, times · 2]`, time-major within a row.
    pub predicted: Tensor<2>,
    /// Final state and, per sample, the time of its last observation.
    pub state: (Tensor<2>, Vec<f64>),
}

impl GruForecaster {
    /// A forecaster drawn from `seed`.
    pub fn init(device: &SysDevice, seed: u64) -> Result<Self, NodeError> {
        let mut rng = SeededRng::new(seed);
        let gru = seeded_gru(device, &mut rng, 3, HIDDEN)?;
        let head = MlpConfig::new(vec![HIDDEN + 1, 20, 2]).init_seeded(device, rng.next_u64())?;
        Ok(GruForecaster { gru, head })
    }

    fn predict(&self, h: Tensor<2>, gap: Tensor<2>) -> Result<Tensor<2>, NodeError> {
        Ok(self.head.forward(Tensor::cat(vec![h, gap], 1))?)
    }

    /// Runs over the window with teacher forcing.
    pub fn window(
        &self,
        series: &IrregularSeries,
        device: &SysDevice,
    ) -> Result<WindowForecast, NodeError> {
        let batch = series.batch();
        let times = series.times();
        let mut h = device.zeros([batch, HIDDEN]);
        let mut last: Vec<Option<f64>> = vec![None; batch];
        let mut predictions = Vec::with_capacity(times.len());
        for (k, &t) in times.iter().enumerate() {
            let gaps: Vec<f64> = last.iter().map(|l| l.map_or(0.0, |l| t - l)).collect();
            let gap = device.tensor(gaps, [batch, 1])?;
            predictions.push(self.predict(h.clone(), gap.clone())?);
            let mut values = Vec::with_capacity(2 * batch);
            let mut mask = Vec::with_capacity(batch);
            for (b, l) in last.iter_mut().enumerate() {
                values.extend_from_slice(series.value(b, k));
                let observed = series.observed(b, k);
                mask.push(if observed { 1.0 } else { 0.0 });
                if observed {
                    *l = Some(t);
                }
            }
            let input = Tensor::cat(vec![device.tensor(values, [batch, 2])?, gap], 1);
            let updated = self.gru.step(h.clone(), input);
            let mask = device.tensor(mask, [batch, 1])?;
            h = h.clone() + (updated - h) * mask;
        }
        let steps = predictions.len();
        let predicted = Tensor::cat(predictions, 0)
            .reshape([steps, batch, 2])
            .swap_dims(0, 1)
            .reshape([batch, steps * 2]);
        let last = last.into_iter().map(|l| l.unwrap_or(times[0])).collect();
        Ok(WindowForecast {
            predicted,
            state: (h, last),
        })
    }

    /// Autoregressive predictions at `times` (after the window), from the window's final state:
    /// `[batch, times · 2]`, time-major within a row.
    pub fn extrapolate(
        &self,
        state: (Tensor<2>, Vec<f64>),
        times: &[f64],
        device: &SysDevice,
    ) -> Result<Tensor<2>, NodeError> {
        let (mut h, mut last) = state;
        let batch = last.len();
        let mut predictions = Vec::with_capacity(times.len());
        for &t in times {
            let gap = device.tensor(last.iter().map(|l| t - l).collect::<Vec<_>>(), [batch, 1])?;
            let predicted = self.predict(h.clone(), gap.clone())?;
            h = self
                .gru
                .step(h, Tensor::cat(vec![predicted.clone(), gap], 1));
            predictions.push(predicted);
            last.fill(t);
        }
        let steps = predictions.len();
        Ok(Tensor::cat(predictions, 0)
            .reshape([steps, batch, 2])
            .swap_dims(0, 1)
            .reshape([batch, steps * 2]))
    }
}

/// The training targets of a window: observed points with an earlier observation, as a
/// `[batch, times · 2]` 0/1 mask.
pub fn forecast_mask(series: &IrregularSeries, device: &SysDevice) -> Result<Tensor<2>, NodeError> {
    let mut mask = Vec::with_capacity(series.batch() * series.times().len() * 2);
    for b in 0..series.batch() {
        let mut seen = false;
        for k in 0..series.times().len() {
            let target = series.observed(b, k) && seen;
            mask.extend([if target { 1.0 } else { 0.0 }; 2]);
            seen |= series.observed(b, k);
        }
    }
    Ok(device.tensor(mask, [series.batch(), series.times().len() * 2])?)
}
