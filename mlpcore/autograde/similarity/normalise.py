"""Python answer code -> a token stream that copying does not change.

What a copier changes without changing the answer, and what this module undoes:

* names (variables, parameters, the learner's own helpers and ``self.`` attributes) become ``V``;
  names every answer shares stay (builtins, ``np``, the functions the release defines or asks for,
  keyword arguments such as ``axis=``), because they are no evidence either way;
* comments, docstrings and formatting: the tokens come from the syntax tree, never from the text;
* equivalent spellings: ``np.dot(a, b)``, ``np.matmul(a, b)`` and ``a.dot(b)`` are ``a @ b``;
  ``np.transpose(a)`` is ``a.T``; ``np.sum(a, axis=0)`` is ``a.sum(axis=0)`` (and mean, max, min);
  ``np.square(a)`` and ``a * a`` are ``a ** 2``; ``a -= b`` is ``a = a - b``; the operands of ``+``
  and ``*`` are put in one order;
* a helper inlined: a call of a one-line helper of the learner's (``def f(..): return expr``) is
  replaced by its expression, so that the answer that calls it and the one that wrote it out agree;
* the order of independent statements: the statements of a block are put in one canonical order
  that keeps every dependency (a topological order that takes the smallest ready statement first).

:func:`tokens` gives ``[(token, line), ...]``: each token with the line of the learner's source
it came from, so that a matching stretch of tokens can be shown as matching lines.
"""

from __future__ import annotations

import ast
import builtins
import copy

# numpy functions that are the same as a method of their first argument.
_AS_METHOD = {"sum": "sum", "mean": "mean", "max": "max", "amax": "max", "min": "min", "amin": "min"}
_MATMUL = {"dot", "matmul"}
_ARRAY_MODULES = {"np", "numpy", "xp"}
_COMMUTATIVE = (ast.Add, ast.Mult)
_STRING_KEPT = 24  # a longer string constant (a message) is just "a string": messages are reworded
INLINED_NODES = 400  # a helper is not inlined where that would make an expression larger than this (f(f(f(...))))
REORDERED_STATEMENTS = 300  # a longer block keeps its own order: putting it in order costs the square of its length
_BARRIERS = (ast.Return, ast.Raise, ast.Break, ast.Continue, ast.Global, ast.Nonlocal, ast.Yield, ast.YieldFrom,
             ast.Await)
KEPT_NAMES = frozenset(dir(builtins)) | _ARRAY_MODULES | {"math", "mlpcore", "self"}
# Calls that change none of their arguments, nor the object of a method: statements that make only
# these may swap with one another. (Anything else is taken to change what it is handed.)
_PURE_METHODS = {"sum", "mean", "max", "min", "std", "var", "argmax", "argmin", "copy", "reshape", "astype", "ravel",
                 "flatten", "transpose", "get", "items", "keys", "values", "dot", "any", "all", "clip", "round",
                 "permutation", "standard_normal", "normal", "uniform", "random", "integers"}
_PURE_FUNCTIONS = frozenset(dir(builtins)) - {"print", "setattr", "delattr", "exec", "eval", "open", "next", "iter"}


def _is_docstring(statement) -> bool:
    return (isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant)
            and isinstance(statement.value.value, str))


def strip_docstrings(tree: ast.AST) -> ast.AST:
    """``tree``, changed in place: no docstrings, nor other bare string statements (they are comments)."""
    for node in ast.walk(tree):
        for field in ("body", "orelse", "finalbody"):
            body = getattr(node, field, None)
            if isinstance(body, list) and any(_is_docstring(statement) for statement in body):
                kept = [statement for statement in body if not _is_docstring(statement)]
                setattr(node, field, kept or [ast.copy_location(ast.Pass(), body[0])])
    return tree


def _returned(function: ast.FunctionDef) -> ast.expr | None:
    """The expression of a function whose body (docstring aside) is ``return expr``, else None."""
    body = [statement for statement in function.body if not _is_docstring(statement)]
    if len(body) == 1 and isinstance(body[0], ast.Return):
        return body[0].value
    return None


def one_line_helpers(definitions: dict[str, ast.AST]) -> dict[str, ast.FunctionDef]:
    """The definitions that are ``def f(a, b, ...): return expr`` (after docstrings): they can be inlined."""
    helpers = {}
    for name, node in definitions.items():
        if not isinstance(node, ast.FunctionDef) or node.decorator_list:
            continue
        arguments = node.args
        if (_returned(node) is not None
                and not (arguments.vararg or arguments.kwarg or arguments.kwonlyargs or arguments.posonlyargs)):
            helpers[name] = node
    return helpers


class _Inline(ast.NodeTransformer):
    """Replace calls of one-line helpers by their expression, arguments put in for parameters."""

    def __init__(self, helpers: dict[str, ast.FunctionDef], depth: int = 3):
        self.helpers, self.depth = helpers, depth

    def visit_Call(self, node):
        self.generic_visit(node)
        helper = self.helpers.get(node.func.id) if isinstance(node.func, ast.Name) else None
        if helper is None or self.depth == 0 or any(isinstance(a, ast.Starred) for a in node.args):
            return node
        parameters = [a.arg for a in helper.args.args]
        defaults = helper.args.defaults
        bound = dict(zip(parameters[len(parameters) - len(defaults):], defaults))
        bound.update(zip(parameters, node.args))
        for keyword in node.keywords:
            if keyword.arg not in parameters:
                return node  # **kwargs or a misspelt keyword: leave the call as it is
            bound[keyword.arg] = keyword.value
        if len(node.args) > len(parameters) or set(bound) != set(parameters):
            return node
        # the helper's own calls of helpers first; the arguments were done above (never twice: that would
        # make nested calls of a helper cost exponential time)
        body = _Inline(self.helpers, self.depth - 1).visit(copy.deepcopy(_returned(helper)))
        uses = [n.id for n in ast.walk(body) if isinstance(n, ast.Name) and n.id in bound]
        size = sum(1 for _ in ast.walk(body)) + sum(_size(bound[name]) for name in uses)
        if size > INLINED_NODES:
            return node  # substitution multiplies sizes: f(f(f(...))) stays as it is
        return ast.copy_location(_Substitute(bound).visit(body), node)


def _size(node: ast.AST) -> int:
    return sum(1 for _ in ast.walk(node))


class _Substitute(ast.NodeTransformer):
    def __init__(self, bound: dict[str, ast.AST]):
        self.bound = bound

    def visit_Name(self, node):
        if node.id in self.bound:
            return ast.copy_location(copy.deepcopy(self.bound[node.id]), node)
        return node


def _array_function(call: ast.Call) -> str | None:
    """``"dot"`` for ``np.dot(...)``, and so on; None for anything else."""
    func = call.func
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id in _ARRAY_MODULES:
        return func.attr
    return None


class _Spellings(ast.NodeTransformer):
    """One spelling for each of the equivalent ones copying swaps (see the module's docstring)."""

    def visit_Call(self, node):
        self.generic_visit(node)
        name = _array_function(node)
        func = node.func
        if name in _MATMUL and len(node.args) == 2 and not node.keywords:
            return ast.copy_location(ast.BinOp(node.args[0], ast.MatMult(), node.args[1]), node)
        if (isinstance(func, ast.Attribute) and func.attr == "dot" and name is None and len(node.args) == 1
                and not node.keywords):
            return ast.copy_location(ast.BinOp(func.value, ast.MatMult(), node.args[0]), node)
        if name == "transpose" and len(node.args) == 1 and not node.keywords:
            return ast.copy_location(ast.Attribute(node.args[0], "T", ast.Load()), node)
        if name == "square" and len(node.args) == 1 and not node.keywords:
            return ast.copy_location(ast.BinOp(node.args[0], ast.Pow(), ast.Constant(2)), node)
        if name in _AS_METHOD and node.args and not isinstance(node.args[0], ast.Starred):
            method = ast.Attribute(node.args[0], _AS_METHOD[name], ast.Load())
            return ast.copy_location(ast.Call(method, node.args[1:], node.keywords), node)
        if isinstance(func, ast.Attribute) and func.attr in ("amax", "amin"):
            func.attr = _AS_METHOD[func.attr]
        return node

    def visit_BinOp(self, node):
        self.generic_visit(node)
        if isinstance(node.op, ast.Mult) and ast.dump(node.left) == ast.dump(node.right):
            return ast.copy_location(ast.BinOp(node.left, ast.Pow(), ast.Constant(2)), node)
        return node

    def visit_Assign(self, node):
        self.generic_visit(node)
        # a, b = x, y is a = x; b = y when no name of a target is read on the right
        target, value = node.targets[0], node.value
        if (len(node.targets) == 1 and isinstance(target, ast.Tuple) and isinstance(value, ast.Tuple)
                and len(target.elts) == len(value.elts) and not any(isinstance(e, ast.Starred) for e in target.elts)):
            stored = {n.id for n in ast.walk(target) if isinstance(n, ast.Name)}
            read = {n.id for n in ast.walk(value) if isinstance(n, ast.Name)}
            if not stored & read:
                return [ast.copy_location(ast.Assign([t], v), node) for t, v in zip(target.elts, value.elts)]
        return node

    def visit_AugAssign(self, node):
        self.generic_visit(node)
        target_read = copy.deepcopy(node.target)
        for sub in ast.walk(target_read):
            if hasattr(sub, "ctx"):
                sub.ctx = ast.Load()
        value = ast.copy_location(ast.BinOp(target_read, node.op, node.value), node)
        return ast.copy_location(ast.Assign([node.target], value), node)


def normalised_tree(tree: ast.AST, helpers: dict[str, ast.FunctionDef]) -> ast.AST:
    """``tree`` (changed in place) with docstrings gone, helpers inlined and spellings made one."""
    tree = strip_docstrings(tree)
    if helpers:
        tree = _Inline(helpers).visit(tree)
    tree = _Spellings().visit(tree)
    return ast.fix_missing_locations(tree)


# ---------------------------------------------------------------------------------------------- tokens


class _Emitter:
    """Walks a normalised tree and writes its tokens (a pre-order walk, so formatting never shows)."""

    def __init__(self, kept: frozenset[str]):
        self.kept = kept

    def node(self, node, line: int) -> list[tuple[str, int]]:
        line = getattr(node, "lineno", line)
        if isinstance(node, ast.Name):
            return [(node.id if node.id in self.kept else "V", line)]
        if isinstance(node, ast.Constant):
            value = node.value
            if isinstance(value, str) and len(value) > _STRING_KEPT:
                return [("STR", line)]
            return [(repr(value), line)]
        if isinstance(node, (ast.expr_context,)):
            return []
        if isinstance(node, (ast.operator, ast.unaryop, ast.cmpop, ast.boolop)):
            return [(type(node).__name__, line)]
        if isinstance(node, ast.Attribute):
            on_self = isinstance(node.value, ast.Name) and node.value.id == "self"
            return self.node(node.value, line) + [("." + ("V" if on_self else node.attr), line)]
        if isinstance(node, ast.arg):
            return [("arg", line)]
        if isinstance(node, ast.keyword):
            return [(f"{node.arg}=", line)] + self.node(node.value, line)
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            name = node.name if node.name in self.kept else "V"
            out = [(type(node).__name__, line), (name, line)]
            if isinstance(node, ast.FunctionDef):
                out += self.node(node.args, line)
            else:
                for base in node.bases:
                    out += self.node(base, line)
            body = self.block(node.body, line)
            return out + body + [("end", body[-1][1])]
        if isinstance(node, ast.BinOp) and isinstance(node.op, _COMMUTATIVE):
            # a + b and b + a: the operands in the order of their tokens
            parts = sorted((self.node(node.left, line), self.node(node.right, line)), key=_key)
            return [("BinOp", line), (type(node.op).__name__, line)] + parts[0] + parts[1]
        out = [(type(node).__name__, line)]
        for _, value in ast.iter_fields(node):
            if isinstance(value, list):
                if value and isinstance(value[0], ast.stmt):
                    out += self.block(value, line)
                else:
                    for item in value:
                        out += self.node(item, line) if isinstance(item, ast.AST) else [(repr(item), line)]
            elif isinstance(value, ast.AST):
                out += self.node(value, line)
        return out

    def block(self, statements: list, line: int) -> list[tuple[str, int]]:
        """A block's statements in the canonical order, between braces."""
        emitted = [self.node(statement, line) for statement in statements]
        order = canonical_order(statements, [_key(tokens) for tokens in emitted])
        # the braces take the lines of the block's first and last tokens, so that a k-gram across a block's
        # end spans the lines it covers, not the whole block from its header
        out = [("{", emitted[order[0]][0][1] if emitted and emitted[order[0]] else line)]
        for index in order:
            out += emitted[index]
        return out + [("}", out[-1][1])]


def _key(tokens) -> str:
    return " ".join(token for token, _ in tokens)


def _reads_writes(statement) -> tuple[set, set, bool]:
    """``(names read, names written, is a barrier)`` of one statement. An item written is
    ``(name, key)``: ``grads["W1"] = ...`` and ``grads["b1"] = ...`` may swap, but neither with a
    statement that reads ``grads``. A name on which a method is called, or that is passed to a call,
    counts as written: the call may change it (``optimizer.step(params, grads)`` changes ``params``)."""
    reads, writes, barrier = set(), set(), False
    targets = []
    if isinstance(statement, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
        targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
    skipped = set()
    for target in targets:
        if isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name):
            writes.add((target.value.id, ast.dump(target.slice)))
            skipped.add(id(target.value))
            if isinstance(statement, ast.AugAssign):
                reads.add(target.value.id)
    for node in ast.walk(statement):
        if isinstance(node, _BARRIERS) or isinstance(node, (ast.FunctionDef, ast.ClassDef, ast.Import,
                                                             ast.ImportFrom, ast.Delete)):
            barrier = True
        elif isinstance(node, ast.Name) and id(node) not in skipped:
            (writes if isinstance(node.ctx, (ast.Store, ast.Del)) else reads).add(node.id)
        elif (isinstance(node, (ast.Attribute, ast.Subscript)) and isinstance(node.ctx, (ast.Store, ast.Del))
              and id(node.value) not in skipped):
            writes.update(_base_names(node))
        elif isinstance(node, ast.Call) and not _pure(node):
            if isinstance(node.func, ast.Attribute):
                writes.update(_base_names(node.func.value))
            for argument in node.args:
                if isinstance(argument, ast.Name):
                    writes.add(argument.id)
    return reads, writes, barrier


def _conflict(first: tuple, second: tuple) -> bool:
    """Whether two statements' ``(reads, writes, barrier)`` keep their order."""
    reads_1, writes_1, barrier_1 = first
    reads_2, writes_2, barrier_2 = second
    if barrier_1 or barrier_2 or writes_1 & (reads_2 | writes_2) or reads_1 & writes_2:
        return True
    names_1 = {w if isinstance(w, str) else w[0] for w in writes_1}
    names_2 = {w if isinstance(w, str) else w[0] for w in writes_2}
    items_1 = {w[0] for w in writes_1 if isinstance(w, tuple)}
    items_2 = {w[0] for w in writes_2 if isinstance(w, tuple)}
    # an item written against the whole container read or written
    return bool(items_1 & (reads_2 | (names_2 - items_2)) or items_2 & (reads_1 | (names_1 - items_1)))


def _pure(call: ast.Call) -> bool:
    """Whether a call changes nothing it is handed: NumPy's functions (without ``out=``), builtins such as
    ``len``, and methods such as ``.sum()`` (the random generator's draws change only the generator, which
    the statements drawing from it never swap over: they read it too)."""
    if any(keyword.arg == "out" for keyword in call.keywords):
        return False
    func = call.func
    if isinstance(func, ast.Name):
        return func.id in _PURE_FUNCTIONS
    if isinstance(func, ast.Attribute):
        if isinstance(func.value, ast.Name) and func.value.id in _ARRAY_MODULES:
            return True
        return func.attr in _PURE_METHODS
    return False


def _base_names(node) -> set:
    while isinstance(node, (ast.Attribute, ast.Subscript)):
        node = node.value
    return {node.id} if isinstance(node, ast.Name) else set()


def canonical_order(statements: list, keys: list[str]) -> list[int]:
    """Indices of ``statements`` in an order that keeps every dependency between them and puts
    independent ones by ``keys`` (the smallest ready one first), so that two blocks that differ only in
    the order of independent statements come out the same."""
    count = len(statements)
    if count > REORDERED_STATEMENTS:
        return list(range(count))
    effects = [_reads_writes(statement) for statement in statements]
    before = [set() for _ in range(count)]
    for j in range(count):
        for i in range(j):
            if _conflict(effects[i], effects[j]):
                before[j].add(i)
    done: list[int] = []
    placed: set[int] = set()
    while len(done) < count:
        ready = [i for i in range(count) if i not in placed and before[i] <= placed]
        chosen = min(ready, key=lambda i: (keys[i], i))
        done.append(chosen)
        placed.add(chosen)
    return done


def tokens(tree: ast.AST, kept: frozenset[str] = KEPT_NAMES, helpers: dict | None = None) -> list[tuple[str, int]]:
    """The normalised tokens of ``tree`` (a module or a definition, which this changes: hand it one of
    its own, freshly parsed), each with its source line."""
    normal = normalised_tree(tree, helpers or {})
    emitter = _Emitter(frozenset(kept) | KEPT_NAMES)
    if isinstance(normal, ast.Module):
        return emitter.block(normal.body, 1)[1:-1]
    return emitter.node(normal, getattr(normal, "lineno", 1))
