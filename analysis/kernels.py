"""The compiled kernels of the hot path (analysis/_event_kernel.pyx, analysis/_match_kernel.pyx), imported in
one place. They are not optional: a checkout that was never built (or was built for another Python) fails
here with what to run (KernelMissing, which the command line shows as an error, not a traceback), not later
with a slower fallback that would hide the missing build. The classifier's kernel (analysis/_score_kernel.pyx)
is loaded when a model is, and raises the same error (analysis.scoring.load_kernel)."""

from __future__ import annotations

from yuqing.errors import YuqingError


class KernelMissing(YuqingError):
    """A compiled kernel is not built (a checkout used without ``make install``). Not an ImportError: callers
    take that for "no classifier installed" and fall back on the lexicon."""


def missing(module: str, exc: BaseException) -> KernelMissing:
    return KernelMissing(f"编译内核 {module} 缺失或无法加载({exc}):请在项目根目录运行 make install"
                         "(或 .venv/bin/pip install -e .)以编译 analysis/_*.pyx")


try:
    from analysis._event_kernel import (
        batch_candidates,
        index_members,
        indexed_candidates,
        minhash_many,
        normalised_text,
        table_put,
    )
    from analysis._match_kernel import Automaton, join_cjk_spaces
except ImportError as exc:
    raise missing(exc.name or "analysis._event_kernel / analysis._match_kernel", exc) from exc

__all__ = [
    "Automaton",
    "KernelMissing",
    "batch_candidates",
    "index_members",
    "indexed_candidates",
    "join_cjk_spaces",
    "minhash_many",
    "normalised_text",
    "table_put",
]
