"""Evaluates JMESPath cases with the reference implementation (the `jmespath` package).

Reads JSON Lines of {"expression": text, "document": JSON text} on standard input and writes,
per case, {"ok": result}, {"error": class name, "parse": true when it failed to compile}, or
{"crash": message} when the reference itself failed with a Python TypeError.
Used by tests/reference.rs to compare the engine of this crate with it.

Two differences are written in here rather than tolerated there:
- the engine follows the JMESPath Community edition in slicing strings (`'abc'[::-1]` is
  `'cba'`; a sliced string is not projected), where the specification's reference gives null;
- the reference type-checks only the first argument of a variadic function (`merge(@, '')`
  passes), where the specification types every argument and so does the engine;
- the reference compares with Python's `==` inside arrays and objects and in `contains`,
  where `true == 1`; in JSON, and in the specification, a boolean never equals a number;
- the reference's `to_string` escapes every non-ASCII character (`"\u00e9"`), where the engine
  writes it as it is (`"é"`, the same JSON text; Data Explorer stores UTF-8).
Everything else is the reference as published.
"""
import json
import sys

import jmespath
from jmespath import exceptions, functions, visitor
from jmespath.parser import Parser


def json_equal(x, y):
    """Equality of JSON values: a boolean is not a number; numbers by value."""
    if isinstance(x, bool) or isinstance(y, bool):
        return isinstance(x, bool) and isinstance(y, bool) and x == y
    if isinstance(x, list) and isinstance(y, list):
        return len(x) == len(y) and all(json_equal(a, b) for a, b in zip(x, y))
    if isinstance(x, dict) and isinstance(y, dict):
        return x.keys() == y.keys() and all(json_equal(x[k], y[k]) for k in x)
    return type(x) in (int, float) and type(y) in (int, float) and x == y or (
        type(x) is type(y) and x == y
    )


class CommunityStringSlices(visitor.TreeInterpreter):
    """The reference's interpreter, slicing strings as the Community edition does and
    comparing as JSON does."""

    def visit_comparator(self, node, value):
        if node["value"] in ("eq", "ne"):
            left = self.visit(node["children"][0], value)
            right = self.visit(node["children"][1], value)
            return json_equal(left, right) == (node["value"] == "eq")
        return super().visit_comparator(node, value)

    def visit_slice(self, node, value):
        if isinstance(value, str):
            return value[slice(*node["children"])]
        return super().visit_slice(node, value)

    def visit_projection(self, node, value):
        base = self.visit(node["children"][0], value)
        left = node["children"][0]
        sliced = left["type"] == "index_expression" and left["children"][-1]["type"] == "slice"
        if isinstance(base, str) and sliced:
            return self.visit(node["children"][1], base)
        return super().visit_projection(node, value)


class EveryVariadicArgumentTyped(functions.Functions):
    """The reference's functions, checking the type of every variadic argument, with
    `contains` comparing as JSON does and `to_string` keeping non-ASCII characters."""

    @functions.signature({"types": []})
    def _func_to_string(self, arg):
        if isinstance(arg, str):
            return arg
        return json.dumps(arg, separators=(",", ":"), ensure_ascii=False)

    @functions.signature({"types": ["array", "string"]}, {"types": []})
    def _func_contains(self, subject, search):
        if isinstance(subject, str):
            return search in subject
        return any(json_equal(item, search) for item in subject)

    def _type_check(self, actual, signature, function_name):
        if signature and signature[-1].get("variadic"):
            signature = list(signature) + [signature[-1]] * (len(actual) - len(signature))
        return super()._type_check(actual, signature, function_name)


def evaluate(case):
    try:
        compiled = Parser().parse(case["expression"])
    except exceptions.JMESPathError as e:
        return {"error": type(e).__name__, "parse": True}
    try:
        interpreter = CommunityStringSlices(
            visitor.Options(custom_functions=EveryVariadicArgumentTyped())
        )
        result = interpreter.visit(compiled.parsed, json.loads(case["document"]))
    except (exceptions.JMESPathError, ValueError) as e:
        # ValueError: a slice step of 0, the specification's invalid-value error.
        return {"error": type(e).__name__, "parse": False}
    except TypeError as e:
        # Python itself refused an operation the reference did not guard (`1 < 'a'`,
        # `contains('', null)`): the reference has no answer to compare.
        return {"crash": str(e)}
    return {"ok": result}


def main():
    out = sys.stdout
    for line in sys.stdin:
        if line.strip():
            out.write(json.dumps(evaluate(json.loads(line)), separators=(",", ":")))
            out.write("\n")
    out.flush()


if __name__ == "__main__":
    main()
