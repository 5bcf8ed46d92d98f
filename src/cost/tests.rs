use super::*;
use crate::config::{parse, NatMode, DEFAULT_YAML};
use crate::kinds;
use crate::plan::tests::applied;
use crate::stack;

fn desired(nat: NatMode, desired_nodes: u32) -> Graph {
    let mut c = parse(DEFAULT_YAML).unwrap();
    c.network.nat = nat;
    c.eks.scaling.desired = desired_nodes;
    c.eks.scaling.max = c.eks.scaling.max.max(desired_nodes);
    stack::build(&c, "123456789012")
}

/// Prices as the Price List API lists them in us-east-1 (November 2026).
fn prices() -> Prices {
    let mut p = Prices::new();
    p.insert(Meter::EksStandard, 0.10);
    p.insert(Meter::EksExtended, 0.50);
    p.insert(Meter::NatGateway, 0.045);
    p.insert(Meter::LoadBalancer, 0.0225);
    p.insert(Meter::PublicIpv4, 0.005);
    p.insert(Meter::Instance("t3.medium".into()), 0.0416);
    p
}

fn priced(g: &Graph, observed: &[Observed]) -> (Plan, Estimate) {
    let plan = crate::plan::diff("grpc-eks", g, observed, &kinds::attr_rule).unwrap();
    let (before, after) = usage(&plan, g, observed, &|_| false);
    let e = estimate("us-east-1", &before, &after, &prices());
    (plan, e)
}

fn count(e: &Estimate, meter: &Meter) -> (u32, u32) {
    e.lines
        .iter()
        .filter(|l| &l.meter == meter)
        .fold((0, 0), |(b, a), l| (b + l.count_before, a + l.count_after))
}

#[test]
fn a_new_stack_costs_what_it_will_run() {
    let g = desired(NatMode::Single, 2);
    let (_, e) = priced(&g, &[]);
    assert_eq!(e.monthly_before, 0.0);
    assert_eq!(count(&e, &Meter::EksStandard), (0, 1));
    assert_eq!(count(&e, &Meter::NatGateway), (0, 1));
    assert_eq!(count(&e, &Meter::LoadBalancer), (0, 1));
    // One Elastic IP for the NAT gateway, one address per zone for the ALB.
    assert_eq!(count(&e, &Meter::PublicIpv4), (0, 3));
    assert_eq!(count(&e, &Meter::Instance("t3.medium".into())), (0, 2));
    let hourly = 0.10 + 0.045 + 0.0225 + 3.0 * 0.005 + 2.0 * 0.0416;
    assert!((e.monthly_after - hourly * HOURS_PER_MONTH).abs() < 1e-9);
}

#[test]
fn an_applied_stack_costs_the_same_before_and_after() {
    let g = desired(NatMode::Single, 2);
    let (plan, e) = priced(&g, &applied(&g));
    assert!(plan.is_empty());
    assert!(e.monthly_before > 0.0);
    assert_eq!(e.monthly_before, e.monthly_after);
}

#[test]
fn nat_per_zone_and_more_nodes_show_as_a_delta() {
    let now = desired(NatMode::Single, 2);
    let wanted = desired(NatMode::PerAz, 3);
    let (_, e) = priced(&wanted, &applied(&now));
    assert_eq!(count(&e, &Meter::NatGateway), (1, 2));
    assert_eq!(count(&e, &Meter::PublicIpv4), (3, 4));
    assert_eq!(count(&e, &Meter::Instance("t3.medium".into())), (2, 3));
    let delta = (0.045 + 0.005 + 0.0416) * HOURS_PER_MONTH;
    assert!((e.monthly_after - e.monthly_before - delta).abs() < 1e-9);
}

#[test]
fn a_version_in_extended_support_is_billed_at_its_price() {
    let g = desired(NatMode::Single, 2);
    let plan = crate::plan::diff("grpc-eks", &g, &[], &kinds::attr_rule).unwrap();
    let (_, after) = usage(&plan, &g, &[], &|_| true);
    let e = estimate("us-east-1", &[], &after, &prices());
    // The Price List bills extended support as a surcharge on top of the standard hours.
    assert_eq!(count(&e, &Meter::EksExtended), (0, 1));
    assert_eq!(count(&e, &Meter::EksStandard), (0, 1));
    let control_plane: f64 = e
        .lines
        .iter()
        .filter(|l| l.id.as_str() == "eks/cluster")
        .map(|l| l.monthly_after)
        .sum();
    assert!((control_plane - 0.60 * HOURS_PER_MONTH).abs() < 1e-9);
}

#[test]
fn a_meter_without_a_price_is_shown_and_left_out_of_the_total() {
    let g = desired(NatMode::Single, 2);
    let plan = crate::plan::diff("grpc-eks", &g, &[], &kinds::attr_rule).unwrap();
    let (before, after) = usage(&plan, &g, &[], &|_| false);
    let mut p = prices();
    p.remove(&Meter::Instance("t3.medium".into()));
    let e = estimate("us-east-1", &before, &after, &p);
    let nodes = e
        .lines
        .iter()
        .find(|l| l.meter == Meter::Instance("t3.medium".into()))
        .unwrap();
    assert_eq!(nodes.usd_per_hour, None);
    assert_eq!(nodes.monthly_after, 0.0);
    let text = Cost::Estimated(e).human();
    assert!(text.contains("no price"), "{text}");
    assert!(text.contains("it is left out of the total"), "{text}");
}

#[test]
fn destroy_brings_the_cost_to_zero() {
    let g = desired(NatMode::Single, 2);
    let observed = applied(&g);
    let plan = crate::plan::destroy("grpc-eks", &g, &observed, &[]).unwrap();
    let (before, after) = usage(&plan, &g, &observed, &|_| false);
    let e = estimate("us-east-1", &before, &after, &prices());
    assert!(e.monthly_before > 0.0);
    assert_eq!(e.monthly_after, 0.0);
}

#[test]
fn without_access_the_cost_is_one_line() {
    let c = Cost::Unavailable(prices::Unpriced::Denied("AccessDeniedException".into()).to_string());
    assert_eq!(c.human().trim().lines().count(), 1);
    assert!(c.human().contains("pricing:GetProducts"));
    assert_eq!(c.markdown().trim().lines().count(), 1);
}

#[test]
fn snapshot_of_the_cost_sections() {
    let now = desired(NatMode::Single, 2);
    let wanted = desired(NatMode::PerAz, 3);
    let (_, e) = priced(&wanted, &applied(&now));
    let cost = Cost::Estimated(e);
    insta::assert_snapshot!("cost_human", cost.human());
    insta::assert_snapshot!("cost_markdown", cost.markdown());
    insta::assert_snapshot!("cost_json", serde_json::to_string_pretty(&cost).unwrap());
}
