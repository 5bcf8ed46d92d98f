"""Kubernetes versions as EKS offers them: the default stack gets EKS's default version, an upgrade
is one minor version with the node group following in the same apply, and what EKS would refuse
(an unknown or ended version, a downgrade, a jump of several minors) is refused by plan with the
steps, before any change. Checked with boto3."""

from conftest import writes

STACK = "grpc-eks"


def with_version(config, version):
    assert "  upgrade_policy: standard\n" in config
    return config.replace("  upgrade_policy: standard\n", f'  version: "{version}"\n  upgrade_policy: standard\n')


def refused(infra, config, *expected):
    infra.write_config(config)
    before = len(infra.emu.calls())
    r = infra("plan")
    assert r.code == 1, r.out[-2000:]
    for text in expected:
        assert text in r.err, r.err
    assert "Nothing was changed." in r.err
    assert writes(infra.emu.calls()[before:]) == []


def test_the_default_stack_gets_the_version_eks_makes_new_clusters_with(infra, emulator):
    eks = emulator.client("eks")
    [default] = [v["clusterVersion"] for v in eks.describe_cluster_versions(defaultOnly=True)["clusterVersions"]]
    infra.default_config()
    r = infra("apply", "--auto-approve", timeout=600)
    assert r.code == 0, r.out[-3000:] + r.err[-3000:]
    cluster = eks.describe_cluster(name=STACK)["cluster"]
    assert cluster["version"] == default
    # Sent, so a cluster never lands in paid extended support by EKS's own default.
    assert cluster["upgradePolicy"] == {"supportType": "STANDARD"}
    [ng] = eks.list_nodegroups(clusterName=STACK)["nodegroups"]
    assert eks.describe_nodegroup(clusterName=STACK, nodegroupName=ng)["nodegroup"]["version"] == default
    assert infra("plan", "--detailed-exitcode").code == 0


def test_upgrades_go_one_minor_version_at_a_time_cluster_then_nodes(infra, emulator):
    eks = emulator.client("eks")
    config = infra.default_config()
    infra.write_config(with_version(config, "1.34"))
    r = infra("apply", "--auto-approve", timeout=600)
    assert r.code == 0, r.out[-3000:] + r.err[-3000:]
    assert eks.describe_cluster(name=STACK)["cluster"]["version"] == "1.34"

    refused(infra, with_version(config, "1.36"),
            "is 2 minor versions above the 1.34 cluster grpc-eks runs",
            "apply with eks.version 1.35, then 1.36, in that order")
    refused(infra, with_version(config, "1.33"), "EKS cannot downgrade", 'set eks.version to "1.34"')
    refused(infra, with_version(config, "1.3"), '"1.3" is not a Kubernetes version EKS offers')

    infra.write_config(with_version(config, "1.35"))
    before = len(infra.emu.calls())
    r = infra("apply", "--auto-approve", timeout=900)
    assert r.code == 0, r.out[-3000:] + r.err[-3000:]
    updates = [c["action"] for c in writes(infra.emu.calls()[before:]) if c["action"].startswith("Update")]
    assert updates.index("UpdateClusterVersion") < updates.index("UpdateNodegroupVersion"), updates
    assert eks.describe_cluster(name=STACK)["cluster"]["version"] == "1.35"
    [ng] = eks.list_nodegroups(clusterName=STACK)["nodegroups"]
    assert eks.describe_nodegroup(clusterName=STACK, nodegroupName=ng)["nodegroup"]["version"] == "1.35"
    assert infra("plan", "--detailed-exitcode").code == 0


def test_an_ended_version_is_refused_and_extended_support_is_warned_about(infra):
    config = infra.default_config()
    refused(infra, with_version(config, "1.31"), "any more (its support has ended)")

    infra.write_config(with_version(config, "1.33"))
    r = infra("plan")
    assert r.code == 0, r.err
    assert "Kubernetes 1.33 is in EKS extended support until 2027-07-29" in r.out, r.out
    assert "EKS extended support surcharge" in r.out, r.out
