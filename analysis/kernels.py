"""The compiled kernels of the hot path (analysis/_event_kernel.pyx, analysis/_match_kernel.pyx), imported in
one place. They are not optional: a checkout that was never built (or was built for another Python) fails
here with what to run, not later with a slower fallback that would hide the missing build."""

from __future__ import annotations

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
    raise ImportError(
        f"编译内核(analysis/_*.pyx)缺失或无法加载({exc}):请在项目根目录运行 make install"
        "(或 .venv/bin/pip install -e .)以编译它们"
    ) from exc

__all__ = [
    "Automaton",
    "batch_candidates",
    "index_members",
    "indexed_candidates",
    "join_cjk_spaces",
    "minhash_many",
    "normalised_text",
    "table_put",
]
