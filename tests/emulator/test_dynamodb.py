"""DynamoDB as the tool's lock table uses it: the CREATING phase, conditional writes, the call log."""

import pytest
from botocore.exceptions import ClientError

from latency import DURATIONS
from support import TIME_SCALE, code, wait_for

TABLE = "infra-locks"
TAKE = dict(ConditionExpression="attribute_not_exists(#s) OR #e < :now",
            ExpressionAttributeNames={"#s": "stack", "#e": "expires"})
TOKEN = dict(ConditionExpression="#t = :t", ExpressionAttributeNames={"#t": "token"})


def create(ddb):
    return ddb.create_table(TableName=TABLE, BillingMode="PAY_PER_REQUEST",
                            KeySchema=[{"AttributeName": "stack", "KeyType": "HASH"}],
                            AttributeDefinitions=[{"AttributeName": "stack", "AttributeType": "S"}])


def item(token, expires):
    return {"stack": {"S": "prod"}, "token": {"S": token}, "expires": {"N": str(expires)}, "host": {"S": "h"}}


def status(ddb):
    return ddb.describe_table(TableName=TABLE)["Table"]["TableStatus"]


def test_a_new_table_is_creating_before_it_is_active(emu):
    ddb = emu.client("dynamodb")
    emu.config(hold=["dynamodb_table_create"])
    created = create(ddb)["TableDescription"]
    assert (created["TableStatus"], created["BillingModeSummary"]["BillingMode"]) == ("CREATING", "PAY_PER_REQUEST")
    assert status(ddb) == "CREATING"
    [t] = emu.transitions()
    assert (t["name"], t["subject"]) == ("dynamodb_table_create", TABLE)
    assert t["due"] - t["scheduled"] == pytest.approx(DURATIONS["dynamodb_table_create"] * TIME_SCALE)
    key = {"stack": {"S": "prod"}}
    refused = [lambda: ddb.put_item(TableName=TABLE, Item=item("a", 1)),
               lambda: ddb.get_item(TableName=TABLE, Key=key, ConsistentRead=True),
               lambda: ddb.update_item(TableName=TABLE, Key=key, UpdateExpression="SET #t = :t",
                                       ExpressionAttributeNames={"#t": "token"},
                                       ExpressionAttributeValues={":t": {"S": "a"}}),
               lambda: ddb.delete_item(TableName=TABLE, Key=key),
               lambda: ddb.batch_write_item(RequestItems={TABLE: [{"PutRequest": {"Item": item("a", 1)}}]})]
    for call in refused:
        with pytest.raises(ClientError) as err:
            call()
        assert code(err) == "ResourceNotFoundException"
        assert err.value.response["Error"]["Message"] == "Requested resource not found"
    with pytest.raises(ClientError) as err:
        ddb.delete_table(TableName=TABLE)
    assert code(err) == "ResourceInUseException"
    with pytest.raises(ClientError) as err:
        create(ddb)  # a second create: in use, whatever its state
    assert code(err) == "ResourceInUseException"
    emu.config(hold=[])
    wait_for(lambda: status(ddb) == "ACTIVE")
    ddb.put_item(TableName=TABLE, Item=item("a", 1))
    assert ddb.get_item(TableName=TABLE, Key=key, ConsistentRead=True)["Item"]["token"] == {"S": "a"}
    assert ddb.delete_table(TableName=TABLE)["TableDescription"]["TableStatus"] == "DELETING"


def test_lock_table_conditional_writes(emu):
    ddb = emu.client("dynamodb")
    key = {"stack": {"S": "prod"}}
    with pytest.raises(ClientError) as err:
        ddb.put_item(TableName=TABLE, Item=item("a", 200), **TAKE, ExpressionAttributeValues={":now": {"N": "100"}})
    assert code(err) == "ResourceNotFoundException"  # no table yet
    with pytest.raises(ClientError) as err:
        ddb.get_item(TableName=TABLE, Key=key, ConsistentRead=True)
    assert code(err) == "ResourceNotFoundException"
    create(ddb)
    with pytest.raises(ClientError) as err:
        create(ddb)
    assert code(err) == "ResourceInUseException"
    wait_for(lambda: status(ddb) == "ACTIVE")

    # Take: free -> ok; held and unexpired -> refused with the holder's item; expired -> taken over.
    ddb.put_item(TableName=TABLE, Item=item("a", 200), **TAKE, ExpressionAttributeValues={":now": {"N": "100"}},
                 ReturnValuesOnConditionCheckFailure="ALL_OLD")
    with pytest.raises(ClientError) as err:
        ddb.put_item(TableName=TABLE, Item=item("b", 300), **TAKE, ExpressionAttributeValues={":now": {"N": "150"}},
                     ReturnValuesOnConditionCheckFailure="ALL_OLD")
    assert code(err) == "ConditionalCheckFailedException"
    assert err.value.response["Item"] == item("a", 200)
    ddb.put_item(TableName=TABLE, Item=item("b", 300), **TAKE, ExpressionAttributeValues={":now": {"N": "250"}},
                 ReturnValuesOnConditionCheckFailure="ALL_OLD")

    # Renew and release only with the holder's token.
    renew = dict(TableName=TABLE, Key=key, UpdateExpression="SET #e = :e",
                 ConditionExpression="#t = :t", ExpressionAttributeNames={"#t": "token", "#e": "expires"})
    with pytest.raises(ClientError) as err:
        ddb.update_item(**renew, ExpressionAttributeValues={":e": {"N": "999"}, ":t": {"S": "a"}})
    assert code(err) == "ConditionalCheckFailedException"
    ddb.update_item(**renew, ExpressionAttributeValues={":e": {"N": "999"}, ":t": {"S": "b"}})
    got = ddb.get_item(TableName=TABLE, Key=key, ConsistentRead=True)["Item"]
    assert (got["token"], got["expires"]) == ({"S": "b"}, {"N": "999"})
    with pytest.raises(ClientError) as err:
        ddb.delete_item(TableName=TABLE, Key=key, **TOKEN, ExpressionAttributeValues={":t": {"S": "a"}})
    assert code(err) == "ConditionalCheckFailedException"
    ddb.delete_item(TableName=TABLE, Key=key, **TOKEN, ExpressionAttributeValues={":t": {"S": "b"}})
    assert "Item" not in ddb.get_item(TableName=TABLE, Key=key, ConsistentRead=True)
    with pytest.raises(ClientError) as err:  # renewing a released lock fails too
        ddb.update_item(**renew, ExpressionAttributeValues={":e": {"N": "999"}, ":t": {"S": "b"}})
    assert code(err) == "ConditionalCheckFailedException"

    logged = [(c["service"], c["action"]) for c in emu.calls() if c["service"] == "dynamodb"]
    assert ("dynamodb", "CreateTable") in logged and ("dynamodb", "DescribeTable") in logged
    assert [a for _, a in logged].count("PutItem") == 4
    assert {"GetItem", "UpdateItem", "DeleteItem"} <= {a for _, a in logged}
