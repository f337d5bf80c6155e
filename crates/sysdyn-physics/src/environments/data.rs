//! Trajectories grouped by environment, the input of LEADS and CoDA.

use burn::tensor::Tensor;
use sysdyn_core::device::SysDevice;

use crate::error::PhysicsError;
use crate::simulators::Dataset;

/// The trajectories of `E` environments, `B` per environment, on a uniform grid of `T` times:
/// `states[e, b, t, :]` is the flattened state of trajectory `b` of environment `e` at time
/// `t · dt`. Batching needs the same `B` in every environment.
#[derive(Debug, Clone)]
pub struct EnvTrajectories {
    /// The states, `[E, B, T, d]`.
    pub states: Tensor<4>,
    /// The time step of the grid.
    pub dt: f64,
}

impl EnvTrajectories {
    /// Groups `data`'s trajectories by environment (in their order within each environment).
    ///
    /// Errors: no environments or no times ([`PhysicsError::Empty`]), an environment without
    /// trajectories ([`PhysicsError::EmptyEnvironment`]), environments with different numbers
    /// of trajectories or a trajectory with another number of states
    /// ([`PhysicsError::SizeMismatch`]), non-uniform times, non-finite states.
    pub fn from_dataset(data: &Dataset, device: &SysDevice) -> Result<Self, PhysicsError> {
        let envs = data.env_parameters.len();
        if envs == 0 {
            return Err(PhysicsError::Empty {
                what: "the data set's environments",
                unit: "environment",
            });
        }
        let steps = data.times.len();
        if steps < 2 {
            return Err(PhysicsError::Empty {
                what: "the data set's time grid (fewer than 2 times)",
                unit: "time beyond the initial one",
            });
        }
        let dt = data.times[1] - data.times[0];
        for (k, w) in data.times.windows(2).enumerate() {
            let step = w[1] - w[0];
            if (step - dt).abs() > 1e-9 * dt.abs().max(1.0) || step <= 0.0 {
                return Err(PhysicsError::NonUniformTimes {
                    what: "environment trajectories",
                    index: k,
                    step,
                    first: dt,
                });
            }
        }
        let dim: usize = data.state_shape.iter().product();
        let mut grouped: Vec<Vec<&Vec<Vec<f64>>>> = vec![Vec::new(); envs];
        for tr in &data.trajectories {
            let Some(group) = grouped.get_mut(tr.env) else {
                return Err(PhysicsError::SizeMismatch {
                    what: "a trajectory's environment index against the number of environments",
                    expected: envs,
                    got: tr.env + 1,
                });
            };
            group.push(&tr.states);
        }
        if let Some(env) = grouped.iter().position(Vec::is_empty) {
            return Err(PhysicsError::EmptyEnvironment { env });
        }
        let per_env = grouped[0].len();
        if let Some(g) = grouped.iter().find(|g| g.len() != per_env) {
            return Err(PhysicsError::SizeMismatch {
                what: "trajectories per environment (batching needs the same number in each)",
                expected: per_env,
                got: g.len(),
            });
        }
        let mut values = Vec::with_capacity(envs * per_env * steps * dim);
        for group in &grouped {
            for states in group {
                if states.len() != steps {
                    return Err(PhysicsError::SizeMismatch {
                        what: "states of a trajectory against the data set's times",
                        expected: steps,
                        got: states.len(),
                    });
                }
                for s in states.iter() {
                    if s.len() != dim {
                        return Err(PhysicsError::SizeMismatch {
                            what: "a state's length against the data set's state shape",
                            expected: dim,
                            got: s.len(),
                        });
                    }
                    values.extend_from_slice(s);
                }
            }
        }
        if let Some(index) = values.iter().position(|v| !v.is_finite()) {
            return Err(PhysicsError::NonFinite {
                what: "environment trajectories",
                index,
            });
        }
        let expected = envs * per_env * steps * dim;
        let got = values.len();
        let states = device
            .tensor(values, [envs, per_env, steps, dim])
            .map_err(|_| PhysicsError::SizeMismatch {
                what: "environment trajectory values",
                expected,
                got,
            })?;
        Ok(EnvTrajectories { states, dt })
    }

    /// The number of environments `E`.
    pub fn envs(&self) -> usize {
        self.states.dims()[0]
    }

    /// Trajectories per environment `B`.
    pub fn per_env(&self) -> usize {
        self.states.dims()[1]
    }

    /// Times per trajectory `T`.
    pub fn times(&self) -> usize {
        self.states.dims()[2]
    }

    /// The length `d` of a flattened state.
    pub fn state_len(&self) -> usize {
        self.states.dims()[3]
    }

    /// Every state of each environment as one batch, `[E, B·T, d]` (where LEADS evaluates the
    /// norm penalty on `g_e`).
    pub fn all_states(&self) -> Tensor<3> {
        let [e, b, t, d] = self.states.dims();
        self.states.clone().reshape([e, b * t, d])
    }

    /// The initial states `[E, B, d]`.
    pub fn initial_states(&self) -> Tensor<3> {
        let [e, b, _, d] = self.states.dims();
        self.states.clone().narrow(2, 0, 1).reshape([e, b, d])
    }

    /// Checks that a model of `model_envs` environments fits these data (`None`: a model
    /// shared by any number of environments).
    pub fn check_model_envs(&self, model_envs: Option<usize>) -> Result<(), PhysicsError> {
        match model_envs {
            Some(m) if m != self.envs() => Err(PhysicsError::SizeMismatch {
                what: "environments of the model against environments of the data",
                expected: m,
                got: self.envs(),
            }),
            _ => Ok(()),
        }
    }
}
