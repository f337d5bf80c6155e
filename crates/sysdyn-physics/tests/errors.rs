//! Typed errors for bad input: wrong parameter lengths, invalid parameter values (negative
//! diffusion, non-positive time constants), grids smaller than a stencil, non-finite initial
//! conditions, wrong state and tensor sizes, empty environment lists. A refused parameter
//! vector leaves the model unchanged.

use std::sync::OnceLock;

use sysdyn_core::device::{DeviceSpec, SysDevice};
use sysdyn_physics::PhysicalModel;
use sysdyn_physics::PhysicsError;
use sysdyn_physics::model::{ModelField, simulate};
use sysdyn_physics::simulators::burgers::Burgers;
use sysdyn_physics::simulators::cardiac::MitchellSchaeffer;
use sysdyn_physics::simulators::fitzhugh_nagumo::FitzHughNagumo;
use sysdyn_physics::simulators::gray_scott::GrayScott;
use sysdyn_physics::simulators::kdv::KdV;
use sysdyn_physics::simulators::lotka_volterra::LotkaVolterra;
use sysdyn_physics::simulators::navier_stokes::{NavierStokes2d, leads_forcing};
use sysdyn_physics::simulators::pendulum::DampedPendulum;
use sysdyn_physics::simulators::wave::DampedWave;
use sysdyn_solvers::SolveConfig;
use sysdyn_solvers::methods::DOPRI5;

fn device() -> SysDevice {
    static DEVICE: OnceLock<SysDevice> = OnceLock::new();
    DEVICE
        .get_or_init(|| {
            let mut d: SysDevice = "flex:f64".parse::<DeviceSpec>().unwrap().init().unwrap();
            d.configure_defaults().unwrap();
            d
        })
        .clone()
}

#[test]
fn wrong_parameter_lengths_are_refused() {
    let mut p = DampedPendulum::aphynity();
    assert!(matches!(
        p.set_parameters(&[1.0]),
        Err(PhysicsError::SizeMismatch {
            expected: 2,
            got: 1,
            ..
        })
    ));
    let mut gs = GrayScott::leads();
    assert!(matches!(
        gs.set_parameters(&[0.1, 0.1, 0.03, 0.06, 1.0]),
        Err(PhysicsError::SizeMismatch {
            expected: 4,
            got: 5,
            ..
        })
    ));
}

#[test]
fn invalid_parameter_values_are_refused_and_leave_the_model_unchanged() {
    let mut fhn = FitzHughNagumo::aphynity();
    let before = fhn.parameters();
    assert!(matches!(
        fhn.set_parameters(&[1e-3, -5e-3, 5e-3]),
        Err(PhysicsError::InvalidParameter { name: "b", .. })
    ));
    assert_eq!(fhn.parameters(), before);
    let mut gs = GrayScott::leads();
    assert!(matches!(
        gs.set_parameters(&[-0.2, 0.1, 0.03, 0.06]),
        Err(PhysicsError::InvalidParameter { name: "D_u", .. })
    ));
    assert!(matches!(
        DampedPendulum::new(1.0, f64::NAN),
        Err(PhysicsError::InvalidParameter { name: "alpha", .. })
    ));
    assert!(matches!(
        Burgers::new(32, -0.1),
        Err(PhysicsError::InvalidParameter { name: "nu", .. })
    ));
    assert!(matches!(
        NavierStokes2d::new(16, 1.0, -1e-3),
        Err(PhysicsError::InvalidParameter { name: "nu", .. })
    ));
    let mut ms = MitchellSchaeffer::cell();
    assert!(matches!(
        ms.set_parameters(&[0.0, 6.0, 120.0, 150.0, 0.13, 0.0]),
        Err(PhysicsError::InvalidParameter { name: "tau_in", .. })
    ));
    assert!(matches!(
        DampedWave::new(16, 1.0, [-330.0, 50.0]),
        Err(PhysicsError::InvalidParameter { name: "c", .. })
    ));
}

#[test]
fn grids_smaller_than_the_stencil_are_refused() {
    assert!(matches!(
        FitzHughNagumo::new(2, [1e-3, 5e-3, 5e-3]),
        Err(PhysicsError::GridTooSmall {
            got: 2,
            needed: 3,
            ..
        })
    ));
    assert!(matches!(
        DampedWave::new(2, 1.0, [330.0, 50.0]),
        Err(PhysicsError::GridTooSmall {
            got: 2,
            needed: 3,
            ..
        })
    ));
    assert!(matches!(
        Burgers::new(2, 0.1),
        Err(PhysicsError::GridTooSmall { .. })
    ));
    assert!(matches!(
        NavierStokes2d::new(3, 1.0, 1e-3),
        Err(PhysicsError::GridTooSmall { .. })
    ));
}

#[test]
fn non_finite_initial_conditions_are_refused() {
    let mut field = ModelField::dense(DampedPendulum::aphynity());
    let r = simulate(
        &mut field,
        &DOPRI5,
        vec![0.1, f64::NAN],
        &[0.0, 1.0],
        SolveConfig::adaptive(1e-6, 1e-8),
    );
    assert!(matches!(r, Err(PhysicsError::NonFinite { index: 1, .. })));
    let mut kdv = KdV::new(16, 0.0, 10.0).unwrap();
    let mut u0 = vec![0.0; 16];
    u0[3] = f64::INFINITY;
    assert!(matches!(
        kdv.integrate(&u0, &[0.0, 1.0], 1e-3),
        Err(PhysicsError::NonFinite { index: 3, .. })
    ));
    let r = simulate(
        &mut field,
        &DOPRI5,
        vec![0.1, 0.2, 0.3],
        &[0.0, 1.0],
        SolveConfig::adaptive(1e-6, 1e-8),
    );
    assert!(matches!(
        r,
        Err(PhysicsError::SizeMismatch {
            expected: 2,
            got: 3,
            ..
        })
    ));
    let r = simulate(
        &mut field,
        &DOPRI5,
        vec![0.1, 0.2],
        &[],
        SolveConfig::adaptive(1e-6, 1e-8),
    );
    assert!(matches!(r, Err(PhysicsError::Empty { .. })));
}

#[test]
fn wrong_state_and_tensor_sizes_are_refused() {
    let mut fhn = FitzHughNagumo::new(4, [1e-3, 5e-3, 5e-3]).unwrap();
    let mut dy = vec![0.0; 32];
    assert!(matches!(
        fhn.rhs(0.0, &[0.0; 31], &mut dy),
        Err(PhysicsError::SizeMismatch {
            expected: 32,
            got: 31,
            ..
        })
    ));
    let d = device();
    let y = d.tensor(vec![0.0; 2 * 32], [2, 32]).unwrap();
    let bad_params = d.tensor(vec![1.0, 2.0], [1, 2]).unwrap();
    assert!(matches!(
        fhn.rhs_tensor(0.0, y.clone(), bad_params),
        Err(PhysicsError::SizeMismatch {
            expected: 3,
            got: 2,
            ..
        })
    ));
    let bad_rows = d.tensor(vec![1.0; 9], [3, 3]).unwrap();
    assert!(matches!(
        fhn.rhs_tensor(0.0, y, bad_rows),
        Err(PhysicsError::SizeMismatch {
            expected: 2,
            got: 3,
            ..
        })
    ));
    assert!(matches!(
        NavierStokes2d::new(8, 1.0, 1e-3)
            .unwrap()
            .with_forcing(vec![0.0; 10]),
        Err(PhysicsError::SizeMismatch {
            expected: 64,
            got: 10,
            ..
        })
    ));
    assert!(matches!(
        leads_forcing(8, 4),
        Err(PhysicsError::InvalidParameter { name: "env", .. })
    ));
}

#[test]
fn empty_environment_lists_are_refused() {
    assert!(matches!(
        LotkaVolterra::dataset_environments(&[], 2, 0, &[0.0, 1.0]),
        Err(PhysicsError::Empty { .. })
    ));
    assert!(matches!(
        GrayScott::leads().dataset_environments(&[], 1, 0, &[0.0, 1.0]),
        Err(PhysicsError::Empty { .. })
    ));
}
