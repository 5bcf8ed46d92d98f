"""The gRPC server, called over a real channel."""

import json
import threading

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import ProtoReflectionDescriptorDatabase

from generated import helloworld_pb2, helloworld_pb2_grpc

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


@pytest.fixture(scope="module")
def stub(channel):
    return helloworld_pb2_grpc.helloworldStub(channel)


def test_reply_keeps_the_original_api(stub):
    reply = stub.GetServerResponse(helloworld_pb2.Message(message="hi there"), timeout=5)
    assert reply.message == 'Hello I am up and running received "hi there" message from you'
    assert reply.received is True


@pytest.mark.parametrize("message", ["", "   "])
def test_empty_message_is_invalid_argument(stub, message):
    with pytest.raises(grpc.RpcError) as err:
        stub.GetServerResponse(helloworld_pb2.Message(message=message), timeout=5)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "non-empty" in err.value.details()


def test_expired_deadline_is_deadline_exceeded(stub):
    with pytest.raises(grpc.RpcError) as err:
        stub.GetServerResponse(helloworld_pb2.Message(message="late"), timeout=-1)  # already expired
    assert err.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED


@pytest.mark.parametrize("service", ["", "helloworld.helloworld"])
def test_health_is_serving(channel, service):
    reply = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(service=service), timeout=5)
    assert reply.status == SERVING


def test_reflection_lists_and_describes_the_service(channel):
    db = ProtoReflectionDescriptorDatabase(channel)
    assert {"helloworld.helloworld", "grpc.health.v1.Health"} <= set(db.get_services())
    proto = db.FindFileContainingSymbol("helloworld.helloworld")
    assert [m.name for m in proto.service[0].method] == ["GetServerResponse"]


def test_logs_are_one_json_object_per_line(grpc_server, stub):
    stub.GetServerResponse(helloworld_pb2.Message(message="log me"), timeout=5)
    entries = [json.loads(line) for line in grpc_server.lines]
    assert all({"ts", "level", "msg"} <= e.keys() for e in entries)
    assert any(e["msg"] == "request" and e["rpc"] == "GetServerResponse" for e in entries)


def test_sigterm_exits_zero_promptly(spawn):
    server = spawn("server.py")  # default 10 s grace: with nothing in flight it must not wait it out
    with grpc.insecure_channel(server.addr) as ch:
        helloworld_pb2_grpc.helloworldStub(ch).GetServerResponse(helloworld_pb2.Message(message="x"), timeout=5)
    rc, took = server.terminate()
    assert rc == 0
    assert took < 3
    assert [e["msg"] for e in map(json.loads, server.lines)][-2:] == ["shutting down", "stopped"]


def test_health_turns_not_serving_on_sigterm(spawn):
    server = spawn("server.py", "--grace", "1")
    result = []
    with grpc.insecure_channel(server.addr) as ch:
        watch = health_pb2_grpc.HealthStub(ch).Watch(health_pb2.HealthCheckRequest(service=""), timeout=10)
        assert next(watch).status == SERVING
        # Reading the stream blocks this thread, so the signal is sent from another one.
        sender = threading.Thread(target=lambda: result.append(server.terminate()))
        sender.start()
        assert next(watch).status == NOT_SERVING
        sender.join()
    rc, took = result[0]
    assert rc == 0
    assert took < 5  # the open Watch is an in-flight RPC: it gets the 1 s grace, then is cancelled
