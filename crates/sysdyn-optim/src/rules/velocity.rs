//! The per-parameter state of the momentum methods on burn tensors, with save and load.

use burn::optim::{RecordState, StateSink, StateSource};
use burn::tensor::{Device, Tensor, TensorData};

/// The velocity `v_k` of [`HeavyBall`](super::HeavyBall) or [`Nesterov`](super::Nesterov) for one
/// parameter tensor.
///
/// A loaded state keeps its saved data on the host until the optimizer moves it to the
/// parameter's device before the next step. burn's module optimizer rebuilds states on
/// `Device::default()`, whose default float type (usually f32) would round an f64 velocity and
/// whose backend (the GPU when compiled in) need not be the parameter's; materialising on the
/// parameter's device with the saved dtype makes a resumed run bit-identical to an uninterrupted
/// one.
#[derive(Debug, Clone)]
pub struct VelocityState<const D: usize> {
    velocity: Velocity<D>,
}

#[derive(Debug, Clone)]
enum Velocity<const D: usize> {
    // Boxed: a tensor handle is far larger than the host data of a loaded state.
    OnDevice(Box<Tensor<D>>),
    Loaded(TensorData),
}

impl<const D: usize> VelocityState<D> {
    /// A state holding `velocity`.
    pub fn new(velocity: Tensor<D>) -> Self {
        VelocityState {
            velocity: Velocity::OnDevice(Box::new(velocity)),
        }
    }

    /// The velocity as a tensor on `device` (in the saved dtype if it was just loaded).
    pub fn velocity_on(self, device: &Device) -> Tensor<D> {
        match self.velocity {
            Velocity::OnDevice(t) => t.to_device(device),
            Velocity::Loaded(data) => {
                let dtype = data.dtype();
                Tensor::from_data(data, (device, dtype))
            }
        }
    }

    /// The state moved to `device`.
    pub fn to_device(self, device: &Device) -> Self {
        Self::new(self.velocity_on(device))
    }
}

const VELOCITY: &str = "velocity";

impl<const D: usize> RecordState for VelocityState<D> {
    fn state_flatten(&self, prefix: &str, out: &mut StateSink) {
        let data = match &self.velocity {
            Velocity::OnDevice(t) => t.as_ref().clone().into_data(),
            Velocity::Loaded(data) => data.clone(),
        };
        out.push_tensor(prefix, VELOCITY, data);
    }

    fn state_unflatten(prefix: &str, src: &mut StateSource, _device: &Device) -> Option<Self> {
        let data = src.take_tensor(prefix, VELOCITY)?;
        if data.rank() != D {
            return None;
        }
        Some(VelocityState {
            velocity: Velocity::Loaded(data),
        })
    }
}
