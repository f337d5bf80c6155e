//! Every vector family composes in one `Chain<VectorLayer>`: a chain of MAF, IAF, a spline
//! coupling, an autoregressive spline and a residual block (with ActNorm, a permutation and a
//! RealNVP coupling between them) inverts to 1e-9 in f64, its log-determinants in both
//! directions equal the brute-force log-determinant of the finite-difference Jacobian.

mod flow_support;

use flow_support::{assert_log_det_brute_force, assert_round_trip, batch, f64_device, rows};
use sysdyn_core::device::SysDevice;
use sysdyn_generative::flow::actnorm::ActNorm;
use sysdyn_generative::flow::chain::{Chain, VectorLayer};
use sysdyn_generative::flow::coupling::{AffineCoupling, Parity, ScaleBound};
use sysdyn_generative::flow::iaf::Iaf;
use sysdyn_generative::flow::made::{InputOrder, MadeConfig};
use sysdyn_generative::flow::maf::Maf;
use sysdyn_generative::flow::permutation::Permutation;
use sysdyn_generative::flow::residual::ResidualFlowConfig;
use sysdyn_generative::flow::spline::{SplineCouplingConfig, SplineSettings};
use sysdyn_generative::flow::spline_autoregressive::SplineAutoregressive;

fn mixed_chain(d: &SysDevice) -> Chain<VectorLayer> {
    let made = |seed: u64| {
        MadeConfig::new(3, vec![8, 8])
            .with_order(InputOrder::Random { seed: seed + 1 })
            .init(d, seed)
            .unwrap()
    };
    Chain::new(vec![
        VectorLayer::ActNorm(ActNorm::from_scale(d, &[0.2, -0.1, 0.3], &[1.2, 0.8, 1.1]).unwrap()),
        VectorLayer::Maf(Maf::new(made(1))),
        VectorLayer::Permutation(Permutation::reverse(3).unwrap()),
        VectorLayer::Iaf(Iaf::new(made(3))),
        VectorLayer::Spline(
            SplineCouplingConfig::new(3, vec![8], 5, 3.0)
                .init(d, 5)
                .unwrap(),
        ),
        VectorLayer::SplineAutoregressive(
            SplineAutoregressive::init(
                &MadeConfig::new(3, vec![8]),
                SplineSettings::new(4, 3.0),
                d,
                6,
            )
            .unwrap(),
        ),
        VectorLayer::Residual(ResidualFlowConfig::new(3, vec![8], 0.6).init(d, 7).unwrap()),
        VectorLayer::Affine(
            AffineCoupling::new(d, 3, &[8], Parity::Odd, ScaleBound::Exp, 0, 8).unwrap(),
        ),
    ])
}

#[test]
fn a_chain_of_every_family_inverts_and_its_log_det_is_the_brute_force_one() {
    let d = f64_device();
    let chain = mixed_chain(&d);
    let points = rows(11, 6, 3, 1.0);
    assert_round_trip(&chain, batch(&d, &points), None, 1e-9);
    let worst = assert_log_det_brute_force(&chain, &d, &points[..3], None, 1e-5);
    println!("largest log-det difference from the brute-force Jacobian: {worst:.2e}");
}
