"""The AWS Price List Query API (`pricing`), GetProducts only, for the products the tool prices.

moto 5.2.5 has no pricing service at all: its server answers a request signed for `pricing`
with an error page. The emulator serves GetProducts itself (server.py routes the service here)
from pricing_products.json, as real aws_v1 price-list documents: each PriceList entry is a JSON
*string* holding {product: {productFamily, attributes, sku}, serviceCode, terms: {OnDemand: {...}},
version, publicationDate}.

Filters (API reference GetProducts / model Filter): TERM_MATCH and EQUALS compare a field's value
exactly, CONTAINS as a substring, ANY_OF / NONE_OF against a comma-separated list; the field is
`ServiceCode`, `productFamily`, `sku` or an attribute name. Comparisons are case-sensitive: no
source says AWS ignores case, and a client that matches the published spelling works either way.
MaxResults 1..100 (model GetProductsMaxResults; 100 when omitted), NextToken opaque.
"""

import base64
import hashlib
import json
from pathlib import Path

import calls

DATA = json.loads((Path(__file__).parent / "pricing_products.json").read_text())
TARGET = "AWSPriceListService."
EFFECTIVE = "2026-11-01T00:00:00Z"


def _code(*parts: str, length: int = 16) -> str:
    """A stable made-up SKU / offer code: AWS's are 16 (SKU) or 10 (term) upper-case letters
    and digits."""
    digest = hashlib.sha256("|".join(parts).encode()).digest()
    return base64.b32encode(digest).decode()[:length]


def _price(value: str) -> str:
    return f"{float(value):.10f}"


def _document(service: str, family, usage: str, unit: str, attributes: dict, description: str,
              region: str, price: str) -> dict:
    info = DATA["regions"][region]
    attrs = {
        "servicecode": service,
        "location": info["location"],
        "locationType": "AWS Region",
        "usagetype": usage.format(**info),
        "regionCode": region,
        "servicename": DATA["services"][service]["servicename"],
        **attributes,
    }
    sku = _code(service, region, attrs["usagetype"], attrs.get("operation", ""))
    offer = "JRTCKXETXF"  # AWS's on-demand offer term code
    rate = "6YS6EN2CT7"  # AWS's on-demand price dimension code
    product = {"attributes": attrs, "sku": sku}
    if family:
        product = {"productFamily": family, **product}
    return {
        "product": product,
        "serviceCode": service,
        "terms": {"OnDemand": {f"{sku}.{offer}": {
            "priceDimensions": {f"{sku}.{offer}.{rate}": {
                "unit": unit, "endRange": "Inf", "beginRange": "0", "appliesTo": [],
                "description": description.replace("{location}", info["location"]).replace("{price}", price),
                "rateCode": f"{sku}.{offer}.{rate}",
                "pricePerUnit": {"USD": _price(price)},
            }},
            "sku": sku, "effectiveDate": EFFECTIVE, "offerTermCode": offer, "termAttributes": {},
        }}},
        "version": DATA["version"],
        "publicationDate": DATA["publication_date"],
    }


def _instance_documents(region: str) -> list[dict]:
    docs = []
    info = DATA["regions"][region]
    for itype, (linux, windows) in DATA["instance_prices"][region].items():
        for system, operation, price in (("Linux", "RunInstances", linux),
                                         ("Windows", "RunInstances:0002", windows)):
            attributes = {
                "instanceType": itype, "currentGeneration": "Yes", "storage": "EBS only",
                **DATA["instance_types"][itype],
                "operatingSystem": system, "tenancy": "Shared", "preInstalledSw": "NA",
                "capacitystatus": "Used", "licenseModel": "No License required",
                "operation": operation, "marketoption": "OnDemand",
            }
            description = f"${price} per On Demand {system} {itype} Instance Hour"
            docs.append(_document("AmazonEC2", "Compute Instance", f"{info['ec2_prefix']}BoxUsage:{itype}",
                                  "Hrs", attributes, description, region, price))
    return docs


def _all_documents() -> list[dict]:
    docs = []
    for region in DATA["regions"]:
        for row in DATA["products"]:
            docs.append(_document(row["service"], row["productFamily"], row["usage"], row["unit"],
                                  row["attributes"], row["description"], region, row["prices"][region]))
        docs += _instance_documents(region)
    return docs


DOCUMENTS = _all_documents()
# Faults and access-denied errors take the service's wire format from the protocol table.
calls.PROTOCOLS.setdefault("pricing", "json")


def _field(doc: dict, name: str):
    if name == "ServiceCode":
        return doc["serviceCode"]
    if name in ("productFamily", "sku"):
        return doc["product"].get(name)
    return doc["product"]["attributes"].get(name)


def _matches(doc: dict, rule: dict) -> bool:
    have = _field(doc, rule.get("Field", ""))
    want = str(rule.get("Value", ""))
    kind = rule.get("Type", "TERM_MATCH")
    values = [v.strip() for v in want.split(",")]
    if kind == "NONE_OF":
        return have is None or have not in values
    if have is None:
        return False
    if kind == "CONTAINS":
        return want in have
    if kind == "ANY_OF":
        return have in values
    return have == want  # TERM_MATCH, EQUALS


def _error(code: str, message: str) -> tuple[int, list, bytes]:
    headers = [("Content-Type", "application/x-amz-json-1.1"), ("x-amzn-ErrorType", code)]
    return 400, headers, json.dumps({"__type": code, "Message": message}).encode()


def _token(offset: int, key: str) -> str:
    return base64.b64encode(json.dumps({"offset": offset, "query": key}).encode()).decode()


def get_products(request: dict) -> tuple[int, list, bytes]:
    service = request.get("ServiceCode")
    if not service:
        return _error("InvalidParameterException", "ServiceCode is required.")
    version = request.get("FormatVersion") or "aws_v1"
    if version != "aws_v1":
        return _error("InvalidParameterException", f"Invalid FormatVersion: {version}. Valid values are: aws_v1")
    filters = request.get("Filters") or []
    key = hashlib.sha256(json.dumps([service, filters], sort_keys=True).encode()).hexdigest()
    offset = 0
    if request.get("NextToken"):
        try:
            token = json.loads(base64.b64decode(request["NextToken"]))
            offset, ok = int(token["offset"]), token["query"] == key
        except (ValueError, KeyError, TypeError):
            ok = False
        if not ok:
            # The model's description of InvalidNextTokenException.
            return _error("InvalidNextTokenException",
                          "The pagination token is invalid. Try again without a pagination token.")
    size = int(request.get("MaxResults") or 100)
    found = [d for d in DOCUMENTS if d["serviceCode"] == service and all(_matches(d, f) for f in filters)]
    page = found[offset:offset + size]
    body = {"FormatVersion": "aws_v1", "PriceList": [json.dumps(d) for d in page]}
    if offset + size < len(found):
        body["NextToken"] = _token(offset + size, key)
    headers = [("Content-Type", "application/x-amz-json-1.1")]
    return 200, headers, json.dumps(body).encode()


def handle(environ: dict) -> tuple[int, list, bytes]:
    """A request signed for `pricing` (awsJson1_1, X-Amz-Target AWSPriceListService.<Op>)."""
    operation = (environ.get("HTTP_X_AMZ_TARGET") or "").removeprefix(TARGET)
    length = int(environ.get("CONTENT_LENGTH") or 0)
    raw = environ["wsgi.input"].read(length) if length else b"{}"
    try:
        request = json.loads(raw or b"{}")
    except ValueError:
        return _error("SerializationException", "Malformed request body")
    if operation == "GetProducts":
        return get_products(request)
    headers = [("Content-Type", "application/x-amz-json-1.1"), ("x-amzn-ErrorType", "UnknownOperationException")]
    return 400, headers, json.dumps({"__type": "UnknownOperationException"}).encode()


