"""DynamoDB: a new table is CREATING for a few seconds before it is ACTIVE.

What moto 5.2.5 does differently (checked against moto/dynamodb and by probing it): a table is
ACTIVE the moment CreateTable returns (Table.describe hard-codes the status). AWS: "CreateTable
is an asynchronous operation ... DynamoDB immediately returns a response with a TableStatus of
CREATING ... You can perform read and write operations only on an ACTIVE table" (API reference,
CreateTable); an item operation on a CREATING table answers ResourceNotFoundException "Requested
resource not found", and DeleteTable answers ResourceInUseException "If table is in CREATING or
UPDATING states" (API reference, DeleteTable).

What moto already does as AWS does, for the lock table the tool keeps (tests cover it): a second
CreateTable of a name -> ResourceInUseException; conditional Put/Update/DeleteItem ->
ConditionalCheckFailedException, with the item when ReturnValuesOnConditionCheckFailure=ALL_OLD;
an unknown table -> ResourceNotFoundException.
"""

from moto.dynamodb.exceptions import ResourceInUseException, ResourceNotFoundException
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.table import Table
from moto.dynamodb.responses import DynamoHandler

import state

from .util import wrap

CREATING = "CREATING"
# Operations that read or write items: refused until the table is ACTIVE.
ITEM_OPERATIONS = ("put_item", "get_item", "update_item", "delete_item", "query", "scan",
                   "batch_get_item", "batch_write_item", "transact_get_items", "transact_write_items")


def _status(table: Table) -> str:
    return getattr(table, "_emu_status", "ACTIVE")


def _describe(original):
    def describe(self, base_key="TableDescription"):
        result = original(self, base_key)
        result[base_key]["TableStatus"] = _status(self)
        return result

    return describe


def _create_table(original):
    def create_table(self, name, *args, **kwargs):
        table = original(self, name, *args, **kwargs)
        table._emu_status = CREATING

        def activate() -> None:
            table._emu_status = "ACTIVE"

        state.later("dynamodb_table_create", activate, subject=name)
        return table

    return create_table


def _delete_table(original):
    def delete_table(self, name):
        table = self.get_table(name)  # ResourceNotFoundException as moto answers it
        if _status(table) == CREATING:
            # AWS's wording (unverified): the documented code, with the reason.
            raise ResourceInUseException(
                f"Attempt to change a resource which is still in use: Table is being created: {table.name}")
        deleted = original(self, name)
        deleted._emu_status = "DELETING"  # what DeleteTable answers; moto forgets it at once
        return deleted

    return delete_table


def _table_names(body: dict) -> list[str]:
    names = [body["TableName"]] if body.get("TableName") else []
    names += list(body.get("RequestItems") or {})
    for item in body.get("TransactItems") or []:
        names += [op["TableName"] for op in item.values() if isinstance(op, dict) and op.get("TableName")]
    return names


def _item_operation(original):
    def operation(self):
        for name in _table_names(self.body or {}):
            try:
                table = self.dynamodb_backend.get_table(name)
            except ResourceNotFoundException:
                continue  # moto answers the unknown table itself
            if _status(table) == CREATING:
                raise ResourceNotFoundException()  # "Requested resource not found"
        return original(self)

    operation.__name__ = original.__name__
    return operation


def install() -> None:
    wrap(Table, "describe", _describe)
    wrap(DynamoDBBackend, "create_table", _create_table)
    wrap(DynamoDBBackend, "delete_table", _delete_table)
    for name in ITEM_OPERATIONS:
        wrap(DynamoHandler, name, _item_operation)
