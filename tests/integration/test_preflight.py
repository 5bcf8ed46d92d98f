"""Plan's preflight: what only the account knows about the config (its zones, the instance types
offered in them, the certificate's status) is checked with reads before anything changes, and every
problem is reported at once at its line and field."""

from conftest import writes


def test_zones_types_and_certificate_the_account_lacks_are_refused_before_any_change(infra, emulator):
    ec2 = emulator.client("ec2")
    zones = {z["ZoneName"] for z in ec2.describe_availability_zones()["AvailabilityZones"]}
    assert "us-east-1z" not in zones
    offered = {o["Location"] for o in ec2.describe_instance_type_offerings(
        LocationType="availability-zone",
        Filters=[{"Name": "instance-type", "Values": ["t3.medium"]}])["InstanceTypeOfferings"]}
    assert {"us-east-1a", "us-east-1b"} <= offered
    # Requested, not yet validated: ACM says PENDING_VALIDATION (held so for the test).
    emulator.config(hold=["acm_dns_validation"])
    pending = emulator.client("acm").request_certificate(DomainName="grpc.example.com", ValidationMethod="DNS")["CertificateArn"]

    config = infra.default_config()
    infra.write_config(config.replace("us-east-1b", "us-east-1z")
                       .replace("certificate_arn: null", f"certificate_arn: {pending}"))
    for command in (("plan",), ("apply", "--auto-approve")):
        before = len(infra.emu.calls())
        r = infra(*command)
        assert r.code == 1, r.out[-2000:]
        assert "infra.yaml does not fit the account (2 problems):" in r.err, r.err
        assert 'network.zones[1].name: "us-east-1z" is not a zone of us-east-1' in r.err, r.err
        assert "alb.certificate_arn: the certificate is PENDING_VALIDATION, not ISSUED" in r.err, r.err
        assert "line " in r.err and "Nothing was changed." in r.err
        assert writes(infra.emu.calls()[before:]) == []

    emulator.config(hold=[])
    # The reads it took: the zones, the offerings, the certificate.
    calls = [c["action"] for c in infra.emu.calls()[before:]]
    for action in ("DescribeAvailabilityZones", "DescribeInstanceTypeOfferings", "DescribeCertificate"):
        assert calls.count(action) == 1, calls
