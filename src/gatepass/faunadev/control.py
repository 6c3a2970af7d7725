"""Variables, lambdas and control flow: ``Let``, ``Var``, ``Lambda``, ``Query``, ``If``, ``Do``, ``Abort``.

Engine rules kept: ``Let`` bindings are an object or an array of one-key objects, each seeing the ones before it;
a lambda's parameters are a name or an array of names, and it closes over the bindings in scope; ``If`` needs a
boolean; ``Do`` needs at least one expression. Every new scope is a copy, paid for by its size.
"""

from __future__ import annotations

from typing import Any

from gatepass.faunadev.errors import FaunaError, invalid_argument
from gatepass.faunadev.forms import Env, Evaluation, Pos, form, type_name
from gatepass.faunadev.values import Lambda


def expr_type_error(expected: str, value: Any, pos: Pos) -> FaunaError:
    """Fauna's error for an expression of the wrong type where a form expects its syntax (not a value)."""
    return FaunaError("invalid expression", f"{expected} expected, {type_name(value)} provided.", pos)


def lambda_params(params: Any, pos: Pos) -> str | list[str]:
    """A lambda's parameters as Fauna parses them: a name, or an array of names (``_`` binds nothing)."""
    if isinstance(params, str):
        return params
    if not isinstance(params, list):
        raise expr_type_error("String or Array", params, pos)
    for i, name in enumerate(params):
        if not isinstance(name, str):
            raise expr_type_error("String", name, [*pos, i])
    return params


def _let_pairs(bindings: Any, pos: Pos) -> list[tuple[str, Any]]:
    if isinstance(bindings, dict):
        return list(bindings.items())
    if not isinstance(bindings, list):
        raise expr_type_error("Array", bindings, [*pos, "let"])
    pairs = []
    for i, binding in enumerate(bindings):
        if not isinstance(binding, dict) or len(binding) != 1:
            raise expr_type_error("Object", binding, [*pos, "let", i])
        pairs.append(next(iter(binding.items())))
    return pairs


@form("let", required=("in",))
def _let(ev: Evaluation, expr: dict[str, Any], env: Env, pos: Pos) -> Any:
    ev.budget.charge(1 + len(env) // 32)  # the scope is a copy
    scope = dict(env)
    for name, value in _let_pairs(expr["let"], pos):
        scope[name] = ev.eval(value, scope, [*pos, "let", name])
    return ev.eval(expr["in"], scope, [*pos, "in"])


@form("var")
def _var(ev: Evaluation, expr: dict[str, Any], env: Env, pos: Pos) -> Any:
    name = expr["var"]
    if not isinstance(name, str):
        raise expr_type_error("String", name, [*pos, "var"])
    if name not in env:
        raise FaunaError("invalid expression", f"Variable '{name[:64]}' is not defined.", pos)
    return env[name]


@form("lambda", required=("expr",))
def _lambda(ev: Evaluation, expr: dict[str, Any], env: Env, pos: Pos) -> Any:
    ev.budget.charge(1 + len(env) // 32)
    params = lambda_params(expr["lambda"], [*pos, "lambda"])
    return Lambda(params, expr["expr"], dict(env))  # closes over the current bindings


@form("query")
def _query(ev: Evaluation, expr: dict[str, Any], env: Env, pos: Pos) -> Any:
    value = ev.arg(expr, "query", env, pos)
    if not isinstance(value, Lambda):
        raise invalid_argument([*pos, "query"], f"Lambda expected, {type_name(value)} provided.")
    return value


@form("if", required=("then", "else"))
def _if(ev: Evaluation, expr: dict[str, Any], env: Env, pos: Pos) -> Any:
    condition = ev.boolean(ev.arg(expr, "if", env, pos), [*pos, "if"])
    return ev.arg(expr, "then" if condition else "else", env, pos)


@form("do")
def _do(ev: Evaluation, expr: dict[str, Any], env: Env, pos: Pos) -> Any:
    body = expr["do"]
    items = body if isinstance(body, list) else [body]
    if not items:
        raise FaunaError("invalid expression", "Expression list cannot be empty.", [*pos, "do"])
    result = None
    for i, item in enumerate(items):
        result = ev.eval(item, env, [*pos, "do", i])
    return result


@form("abort")
def _abort(ev: Evaluation, expr: dict[str, Any], env: Env, pos: Pos) -> Any:
    raise FaunaError("transaction aborted", ev.string(ev.arg(expr, "abort", env, pos), [*pos, "abort"]), pos)
