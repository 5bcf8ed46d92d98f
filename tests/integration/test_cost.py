"""The plan's cost estimate: what the stack's hourly-billed resources cost per month now and after
the change, priced by the Price List API (read with boto3 here, independently of infra), cached,
and one line when the credentials may not read prices."""

import json

from conftest import account_calls

HOURS_PER_MONTH = 730


def hourly(pricing, service, suffix, **attributes):
    """The on-demand USD price per hour of the one product whose usage type ends with `suffix`."""
    filters = [{"Type": "TERM_MATCH", "Field": k, "Value": v} for k, v in attributes.items()]
    found = []
    for doc in pricing.get_products(ServiceCode=service, Filters=filters, FormatVersion="aws_v1")["PriceList"]:
        product = json.loads(doc)
        usage = product["product"]["attributes"]["usagetype"]
        if usage == suffix or usage.endswith("-" + suffix):
            for offer in product["terms"]["OnDemand"].values():
                for dim in offer["priceDimensions"].values():
                    found.append(float(dim["pricePerUnit"]["USD"]))
    assert len(found) == 1, (service, suffix, found)
    return found[0]


def pricing_calls(infra, before):
    return [c for c in infra.emu.calls()[before:] if c["service"] == "pricing"]


def test_plan_shows_the_monthly_cost_priced_by_the_price_list_and_caches_it(infra, emulator):
    pricing = emulator.client("pricing")
    region = {"regionCode": "us-east-1"}
    # The default stack: one cluster, one NAT gateway and its Elastic IP, an internet-facing ALB
    # in two zones (two public addresses), one t3.medium node.
    expected = HOURS_PER_MONTH * (
        hourly(pricing, "AmazonEKS", "AmazonEKS-Hours:perCluster", **region)
        + hourly(pricing, "AmazonEC2", "NatGateway-Hours", productFamily="NAT Gateway", **region)
        + hourly(pricing, "AWSELB", "LoadBalancerUsage", productFamily="Load Balancer-Application", **region)
        + 3 * hourly(pricing, "AmazonVPC", "PublicIPv4:InUseAddress", **region)
        + hourly(pricing, "AmazonEC2", "BoxUsage:t3.medium", instanceType="t3.medium", operatingSystem="Linux",
                 tenancy="Shared", preInstalledSw="NA", capacitystatus="Used", **region)
    )
    infra.default_config()

    before = len(infra.emu.calls())
    r = infra("plan", "--json")
    assert r.code == 0, r.err
    cold = pricing_calls(infra, before)
    cost = r.json()["cost"]["estimated"]
    assert cost["monthly_before"] == 0
    assert abs(cost["monthly_after"] - expected) < 0.01, (cost["monthly_after"], expected)
    meters = sorted((l["id"], l["meter"], l["count_after"]) for l in cost["lines"])
    assert meters == [
        ("alb", "application-load-balancer", 1), ("alb", "public-ipv4-address", 2),
        ("eip/a", "public-ipv4-address", 1), ("eks/cluster", "eks-control-plane", 1),
        ("eks/nodegroup", "instance/t3.medium", 1), ("nat/a", "nat-gateway", 1),
    ], meters
    # One query per kind of meter, all at once; none of it is a write.
    assert [c["action"] for c in cold] == ["GetProducts"] * 5, cold

    # The same prices come from the cache the next time: no Price List call at all.
    before = len(infra.emu.calls())
    r = infra("plan")
    assert r.code == 0, r.err
    assert pricing_calls(infra, before) == []
    assert f"${expected:.2f}/month after this change (+${expected:.2f} from $0.00)" in r.out, r.out
    assert "Not included: data processed and transferred" in r.out

    markdown = infra("plan", "--format", "markdown")
    assert markdown.code == 0, markdown.err
    assert f"**${expected:.2f}/month**" in markdown.out, markdown.out
    assert "| `nat/a` | NAT gateway | 0 → 1 |" in markdown.out, markdown.out


def test_without_access_to_prices_plan_says_so_in_one_line_and_goes_on(infra, emulator):
    infra.default_config()
    emulator.config(deny=["pricing:GetProducts"])
    try:
        before = len(infra.emu.calls())
        r = infra("plan")
    finally:
        emulator.config(deny=[])
    assert r.code == 0, r.err
    lines = [l for l in r.out.splitlines() if "Cost" in l]
    assert lines == [
        "Cost: not estimated: these credentials may not call pricing:GetProducts "
        "(AccessDeniedException); grant it to see what the stack costs."
    ], r.out
    assert "Plan: " in r.out
    # The account was read as always; only the prices were refused.
    assert len(account_calls(infra.emu.calls()[before:])) > 0
    # Nothing refused is cached: with access back, the estimate is there.
    r = infra("plan")
    assert "Estimated cost" in r.out, r.out


def test_a_change_shows_its_delta(infra):
    config = infra.default_config()
    assert infra("apply", "--auto-approve", timeout=600).code == 0
    infra.write_config(config.replace("nat: single", "nat: per-az").replace("desired: 1", "desired: 2"))
    r = infra("plan", "--json")
    assert r.code == 0, r.err
    cost = r.json()["cost"]["estimated"]
    changed = {(l["id"], l["meter"]): (l["count_before"], l["count_after"])
               for l in cost["lines"] if l["count_before"] != l["count_after"]}
    assert changed == {
        ("nat/b", "nat-gateway"): (0, 1),
        ("eip/b", "public-ipv4-address"): (0, 1),
        ("eks/nodegroup", "instance/t3.medium"): (1, 2),
    }, changed
    per_hour = {l["meter"]: l["usd_per_hour"] for l in cost["lines"]}
    delta = HOURS_PER_MONTH * (per_hour["nat-gateway"] + per_hour["public-ipv4-address"] + per_hour["instance/t3.medium"])
    assert abs(cost["monthly_after"] - cost["monthly_before"] - delta) < 0.01
