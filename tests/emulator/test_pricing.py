"""The Price List API (GetProducts) and the `deny` setting."""

import json
import re

import pytest
from botocore.exceptions import ClientError

from support import code


def term(field, value, kind="TERM_MATCH"):
    return {"Type": kind, "Field": field, "Value": value}


def products(emu, service, *filters, **kwargs):
    pricing = emu.client("pricing")
    return [json.loads(p) for p in pricing.get_products(ServiceCode=service, Filters=list(filters),
                                                         FormatVersion="aws_v1", **kwargs)["PriceList"]]


def usd(doc):
    [offer] = doc["terms"]["OnDemand"].values()
    [dim] = offer["priceDimensions"].values()
    return dim["pricePerUnit"]["USD"], dim["unit"]


def pick(docs, usage):
    """How the tool picks: the usage type exactly, or after a region prefix and a dash."""
    found = [d for d in docs if re.fullmatch(rf"([A-Z0-9]+-)?{re.escape(usage)}", d["product"]["attributes"]["usagetype"])]
    assert len(found) == 1, [d["product"]["attributes"]["usagetype"] for d in found]
    return found[0]


def test_eks_cluster_hours_standard_and_extended(emu):
    docs = products(emu, "AmazonEKS", term("regionCode", "us-east-1"), term("productFamily", "Compute"))
    standard = pick(docs, "AmazonEKS-Hours:perCluster")
    assert standard["product"]["attributes"]["usagetype"] == "USE1-AmazonEKS-Hours:perCluster"
    assert usd(standard) == ("0.1000000000", "Hrs")
    assert standard["serviceCode"] == "AmazonEKS" and standard["product"]["productFamily"] == "Compute"
    # The extended-support line is the surcharge on top of the cluster hour ($0.10 + $0.50).
    assert usd(pick(docs, "AmazonEKS-Hours:extendedSupport"))[0] == "0.5000000000"
    eu = products(emu, "AmazonEKS", term("regionCode", "eu-west-1"), term("productFamily", "Compute"))
    assert pick(eu, "AmazonEKS-Hours:perCluster")["product"]["attributes"]["usagetype"] == "EU-AmazonEKS-Hours:perCluster"


@pytest.mark.parametrize("region,itype,price", [
    ("us-east-1", "t3.medium", "0.0416"), ("us-east-1", "m5.large", "0.096"), ("us-east-1", "c5.large", "0.085"),
    ("eu-west-1", "t3.large", "0.0912"), ("eu-west-1", "m6i.large", "0.107"),
])
def test_instance_hours(emu, region, itype, price):
    filters = [term("regionCode", region), term("productFamily", "Compute Instance"), term("instanceType", itype),
               term("operatingSystem", "Linux"), term("tenancy", "Shared"), term("preInstalledSw", "NA"),
               term("capacitystatus", "Used")]
    [doc] = products(emu, "AmazonEC2", *filters)
    attrs = doc["product"]["attributes"]
    assert attrs["usagetype"].endswith(f"BoxUsage:{itype}") and attrs["licenseModel"] == "No License required"
    assert float(usd(doc)[0]) == float(price)
    # Without the operating system the Windows product (same usage type) comes too.
    both = products(emu, "AmazonEC2", *[f for f in filters if f["Field"] != "operatingSystem"])
    assert sorted(d["product"]["attributes"]["operatingSystem"] for d in both) == ["Linux", "Windows"]


def test_nat_gateway_load_balancer_and_vpc(emu):
    nat = products(emu, "AmazonEC2", term("regionCode", "us-east-1"), term("productFamily", "NAT Gateway"))
    assert usd(pick(nat, "NatGateway-Hours")) == ("0.0450000000", "Hrs")
    assert len(nat) == 3  # hours, bytes and the regional NAT gateway's hours
    alb = products(emu, "AWSELB", term("regionCode", "eu-west-1"), term("productFamily", "Load Balancer-Application"))
    assert usd(pick(alb, "LoadBalancerUsage"))[0] == "0.0252000000"
    endpoint = products(emu, "AmazonVPC", term("regionCode", "us-east-1"), term("productFamily", "VpcEndpoint"))
    assert usd(pick(endpoint, "VpcEndpoint-Hours"))[0] == "0.0100000000"
    # Public IPv4 products carry no productFamily on AWS: found by their group, not by a family.
    assert products(emu, "AmazonVPC", term("regionCode", "us-east-1"), term("productFamily", "IP Address")) == []
    ipv4 = products(emu, "AmazonVPC", term("regionCode", "us-east-1"), term("group", "VPCPublicIPv4Address"))
    assert "productFamily" not in ipv4[0]["product"]
    assert usd(pick(ipv4, "PublicIPv4:InUseAddress"))[0] == "0.0050000000"


def test_filters_are_exact_and_pages_follow_next_token(emu):
    assert products(emu, "AmazonEC2", term("regionCode", "US-EAST-1"), term("productFamily", "NAT Gateway")) == []
    assert products(emu, "AmazonEC2", term("instanceType", "t3.nano")) == []
    assert len(products(emu, "AmazonEC2", term("usagetype", "NatGateway", "CONTAINS"))) == 6
    assert len(products(emu, "AmazonEKS", term("regionCode", "us-east-1,eu-west-1", "ANY_OF"))) == 4
    pricing = emu.client("pricing")
    pages = list(pricing.get_paginator("get_products").paginate(
        ServiceCode="AmazonEC2", Filters=[term("productFamily", "Compute Instance")], PaginationConfig={"PageSize": 7}))
    assert [len(p["PriceList"]) for p in pages] == [7, 7, 6]
    skus = {json.loads(d)["product"]["sku"] for p in pages for d in p["PriceList"]}
    assert len(skus) == 20
    with pytest.raises(ClientError) as err:
        pricing.get_products(ServiceCode="AmazonEKS", NextToken=pages[0]["NextToken"])
    assert code(err) == "InvalidNextTokenException"


def test_pricing_calls_are_logged_and_faulted_like_other_json_services(emu):
    products(emu, "AmazonEKS")
    assert emu.calls()[-1]["service"] == "pricing" and emu.calls()[-1]["action"] == "GetProducts"
    emu.config(fault_rate=1.0, seed=3)
    pricing = emu.client("pricing")
    with pytest.raises(ClientError) as err:
        pricing.get_products(ServiceCode="AmazonEKS")
    assert code(err) in ("ThrottlingException", "InternalFailure")
    assert emu.calls()[-1]["status"] in (400, 500)


def test_deny_refuses_the_listed_actions_with_each_services_error(emu):
    emu.config(deny=["pricing:GetProducts", "eks:DescribeClusterVersions", "iam:CreateRole", "ec2:DescribeVpcs"])
    with pytest.raises(ClientError) as err:
        emu.client("pricing").get_products(ServiceCode="AmazonEKS")
    assert code(err) == "AccessDeniedException"
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert "is not authorized to perform: pricing:GetProducts" in err.value.response["Error"]["Message"]
    assert emu.calls()[-1] == {**emu.calls()[-1], "service": "pricing", "action": "GetProducts", "status": 400}
    with pytest.raises(ClientError) as err:
        emu.client("eks").describe_cluster_versions()
    assert (code(err), err.value.response["ResponseMetadata"]["HTTPStatusCode"]) == ("AccessDeniedException", 403)
    with pytest.raises(ClientError) as err:
        emu.client("iam").create_role(RoleName="r", AssumeRolePolicyDocument="{}")
    assert code(err) == "AccessDenied"
    with pytest.raises(ClientError) as err:
        emu.client("ec2").describe_vpcs()
    assert code(err) == "UnauthorizedOperation"
    emu.client("eks").list_clusters()  # not listed: allowed
    emu.config(deny=[])
    emu.client("pricing").get_products(ServiceCode="AmazonEKS")
