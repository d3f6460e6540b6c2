"""Plain-PyTorch reference of timm's VisionTransformer forward (eval mode), for golden data.

Parameter names are exactly timm's, so a timm state dict loads with strict=True:
  patch_embed.proj.{weight,bias}  cls_token [1,1,D]  dist_token [1,1,D] (DeiT distilled)
  pos_embed [1, prefix + gh*gw, D]  blocks.{i}.{norm1,attn.qkv,attn.proj,norm2,mlp.fc1,mlp.fc2}.*
  norm.* (token / distilled)  or  fc_norm.* (global average pool)  head.*  head_dist.* (distilled)

The attention is written out step by step (timm's non-fused path) so that every layer's softmax
probabilities can be returned next to the logits.

Forward variants (ForwardOptions, all off by default; with the defaults the forward runs exactly the
operations of the plain forward above, so its outputs are bitwise those of the plain model):
  window k / window_blocks L  a patch query at grid (r, c) sees the patch keys within (k-1)/2 rows and
                              columns of it plus every prefix token; a prefix query sees every token;
                              only blocks 0..L-1 are windowed (all when L is None)
  mask [T,T] bool             True = visible (row = query, column = key); like the window, blocks
                              0..L-1 only when window_blocks L is given
  normalization               'softmax' (invisible scores are -inf first) or 'relu':
                              relu(s) / n_visible(row) on visible keys, 0 elsewhere
  norm_blocks (begin, end)    the normalization applies to blocks begin..end-1 only (end 0: through the
                              last block), the others use the softmax; (0, 0) = every block
  heads_off {(block, head)}   that head's attn @ v is zeroed before the output projection
  pos                         'trained' | 'zero' (no position embedding at all) |
                              'permuted' (after resampling, pos[prefix + i] <- pos[prefix + perm[i]])
VisionTransformer.forward_with_tokens also returns the residual stream before and after each block.
"""
from dataclasses import dataclass
import math
import re
from typing import FrozenSet, List, Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F

CLASSIFIERS = ("token", "avg", "distilled")


@dataclass(frozen=True)
class ViTConfig:
    patch_size: int
    embed_dim: int
    depth: int
    num_heads: int
    mlp_hidden: int
    num_classes: int
    pos_grid: Tuple[int, int]  # patch grid (rows, cols) the pos_embed was trained for
    classifier: str = "token"  # 'token' | 'avg' | 'distilled'
    layernorm_eps: float = 1e-6
    in_chans: int = 3
    # timm >= 0.9 resamples with antialias=True (its default); older timm without.
    pos_antialias: bool = False

    @property
    def num_prefix_tokens(self) -> int:
        return {"token": 1, "avg": 0, "distilled": 2}[self.classifier]


NORMALIZATIONS = ("softmax", "relu")
POSITIONS = ("trained", "zero", "permuted")


@dataclass(frozen=True, eq=False)  # eq=False: identity comparison (the mask is a tensor)
class ForwardOptions:
    """Changes to the forward pass; the defaults change nothing. See the module docstring."""
    window: Optional[int] = None  # odd k >= 1
    window_blocks: Optional[int] = None  # blocks 0..L-1 use the window (or mask); None = every block
    mask: Optional[torch.Tensor] = None  # bool [T,T], True = visible; not with window
    normalization: str = "softmax"
    norm_blocks: Tuple[int, int] = (0, 0)  # normalization on blocks begin..end-1; end 0 = through the last
    heads_off: FrozenSet[Tuple[int, int]] = frozenset()  # (block, head)
    pos: str = "trained"
    perm: Optional[Tuple[int, ...]] = None  # pos == 'permuted': a permutation of 0..gh*gw-1

    def __post_init__(self):
        if self.window is not None and (self.window < 1 or self.window % 2 == 0):
            raise ValueError(f"window: {self.window} is not an odd size >= 1")
        if self.window_blocks is not None and ((self.window is None and self.mask is None) or self.window_blocks < 1):
            raise ValueError("window_blocks: needs a window or a mask, and at least one block")
        if self.mask is not None and self.window is not None:
            raise ValueError("mask and window are exclusive")
        if self.normalization not in NORMALIZATIONS:
            raise ValueError(f"normalization: unknown kind '{self.normalization}'")
        begin, end = self.norm_blocks
        if begin < 0 or end < 0 or (end != 0 and end <= begin):
            raise ValueError(f"norm_blocks: ({begin}, {end}) is not a block range begin..end-1 (end 0 = to the last)")
        if tuple(self.norm_blocks) != (0, 0) and self.normalization == "softmax":
            raise ValueError("norm_blocks: needs a normalization other than the softmax")
        if self.pos not in POSITIONS:
            raise ValueError(f"pos: unknown kind '{self.pos}'")
        if (self.pos == "permuted") != (self.perm is not None):
            raise ValueError("perm: given exactly when pos is 'permuted'")


@dataclass(frozen=True, eq=False)
class LayerOptions:
    """What one block's attention does differently; ForwardOptions resolved for that block."""
    visible: Optional[torch.Tensor] = None  # bool [T,T]; None = every key visible
    normalization: str = "softmax"
    heads_off: FrozenSet[int] = frozenset()


@dataclass
class ForwardResult:
    logits: torch.Tensor  # [B, classes]
    attentions: List[torch.Tensor]  # per block: weights actually used [B, heads, T, T]
    tokens: List[torch.Tensor]  # depth + 1 entries [B, T, D]: embedded tokens, then after each block


def window_visibility(grid: Tuple[int, int], num_prefix_tokens: int, k: int) -> torch.Tensor:
    """bool [T,T], T = prefix + gh*gw: patch queries see patch keys within (k-1)/2 grid steps in
    both directions (a square clipped at the borders) and every prefix token; prefix queries see all."""
    gh, gw = grid
    rows, cols = torch.div(torch.arange(gh * gw), gw, rounding_mode="floor"), torch.arange(gh * gw) % gw
    reach = (k - 1) // 2
    near = ((rows[:, None] - rows[None, :]).abs() <= reach) & ((cols[:, None] - cols[None, :]).abs() <= reach)
    p = num_prefix_tokens
    visible = torch.ones(p + gh * gw, p + gh * gw, dtype=torch.bool)
    visible[p:, p:] = near
    return visible


def normalise_scores(scores: torch.Tensor, visible: Optional[torch.Tensor], kind: str) -> torch.Tensor:
    """scores[B,heads,T,T] (q . k * scale) -> attention weights [B,heads,T,T]; invisible keys get 0."""
    if kind == "softmax":
        if visible is not None:
            scores = scores.masked_fill(~visible, float("-inf"))
        return scores.softmax(dim=-1)
    weights = scores.relu()
    if visible is None:
        return weights / scores.shape[-1]
    n_visible = visible.sum(-1, keepdim=True).to(scores.dtype)  # [T,1]
    return weights.masked_fill(~visible, 0.0) / n_visible


def resample_abs_pos_embed(
    pos_embed: torch.Tensor,
    new_grid: Tuple[int, int],
    old_grid: Tuple[int, int],
    num_prefix_tokens: int,
    antialias: bool = False,
) -> torch.Tensor:
    """pos_embed[1, prefix + oh*ow, D] -> [1, prefix + nh*nw, D].

    As timm.layers.resample_abs_pos_embed: prefix (class / distillation) tokens are kept as they are,
    the grid part is reshaped to [1, D, oh, ow] and resized with bicubic F.interpolate
    (align_corners=False). Unlike timm it does not cast to float32 first, so a float64 model
    resamples in float64.
    """
    new_grid, old_grid = tuple(new_grid), tuple(old_grid)
    if new_grid == old_grid:
        return pos_embed
    prefix, grid = pos_embed[:, :num_prefix_tokens], pos_embed[:, num_prefix_tokens:]
    dim = grid.shape[-1]
    if grid.shape[1] != old_grid[0] * old_grid[1]:
        raise ValueError(f"pos_embed: {grid.shape[1]} grid tokens do not form a {old_grid} grid")
    grid = grid.reshape(1, old_grid[0], old_grid[1], dim).permute(0, 3, 1, 2)
    grid = F.interpolate(grid, size=new_grid, mode="bicubic", align_corners=False, antialias=antialias)
    grid = grid.permute(0, 2, 3, 1).reshape(1, new_grid[0] * new_grid[1], dim)
    return torch.cat([prefix, grid], dim=1)


class PatchEmbed(nn.Module):
    def __init__(self, cfg: ViTConfig):
        super().__init__()
        self.patch_size = cfg.patch_size
        self.proj = nn.Conv2d(cfg.in_chans, cfg.embed_dim, kernel_size=cfg.patch_size, stride=cfg.patch_size)

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, Tuple[int, int]]:
        # x[B,C,H,W] -> tokens[B, gh*gw, D] in row-major patch order, and the grid (gh, gw)
        _, _, h, w = x.shape
        if h % self.patch_size or w % self.patch_size:
            raise ValueError(f"input: {h}x{w} is not a multiple of the patch size {self.patch_size}")
        x = self.proj(x)
        grid = (x.shape[2], x.shape[3])
        return x.flatten(2).transpose(1, 2), grid


class Attention(nn.Module):
    def __init__(self, cfg: ViTConfig):
        super().__init__()
        if cfg.embed_dim % cfg.num_heads:
            raise ValueError(f"width {cfg.embed_dim} is not divisible by {cfg.num_heads} heads")
        self.num_heads = cfg.num_heads
        self.head_dim = cfg.embed_dim // cfg.num_heads
        self.scale = self.head_dim ** -0.5
        self.qkv = nn.Linear(cfg.embed_dim, 3 * cfg.embed_dim)
        self.proj = nn.Linear(cfg.embed_dim, cfg.embed_dim)

    def forward(self, x: torch.Tensor, options: LayerOptions = LayerOptions()) -> Tuple[torch.Tensor, torch.Tensor]:
        # x[B,N,D] -> (out[B,N,D], weights[B,heads,N,N]: softmax probabilities unless options say otherwise)
        b, n, d = x.shape
        qkv = self.qkv(x).reshape(b, n, 3, self.num_heads, self.head_dim).permute(2, 0, 3, 1, 4)
        q, k, v = qkv.unbind(0)  # each [B,heads,N,hd]
        q = q * self.scale
        attn = normalise_scores(q @ k.transpose(-2, -1), options.visible, options.normalization)
        heads = attn @ v  # [B,heads,N,hd]
        if options.heads_off:
            heads = heads.clone()
            heads[:, sorted(options.heads_off)] = 0
        out = heads.transpose(1, 2).reshape(b, n, d)
        return self.proj(out), attn


class Mlp(nn.Module):
    def __init__(self, cfg: ViTConfig):
        super().__init__()
        self.fc1 = nn.Linear(cfg.embed_dim, cfg.mlp_hidden)
        self.act = nn.GELU()  # exact (erf) GELU, timm's default
        self.fc2 = nn.Linear(cfg.mlp_hidden, cfg.embed_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(self.act(self.fc1(x)))


class Block(nn.Module):
    def __init__(self, cfg: ViTConfig):
        super().__init__()
        self.norm1 = nn.LayerNorm(cfg.embed_dim, eps=cfg.layernorm_eps)
        self.attn = Attention(cfg)
        self.norm2 = nn.LayerNorm(cfg.embed_dim, eps=cfg.layernorm_eps)
        self.mlp = Mlp(cfg)

    def forward(self, x: torch.Tensor, options: LayerOptions = LayerOptions()) -> Tuple[torch.Tensor, torch.Tensor]:
        attn_out, probs = self.attn(self.norm1(x), options)
        x = x + attn_out
        x = x + self.mlp(self.norm2(x))
        return x, probs


class VisionTransformer(nn.Module):
    def __init__(self, cfg: ViTConfig):
        super().__init__()
        if cfg.classifier not in CLASSIFIERS:
            raise ValueError(f"classifier: unknown kind '{cfg.classifier}'")
        self.cfg = cfg
        d = cfg.embed_dim
        self.patch_embed = PatchEmbed(cfg)
        if cfg.classifier in ("token", "distilled"):
            self.cls_token = nn.Parameter(torch.zeros(1, 1, d))
        if cfg.classifier == "distilled":
            self.dist_token = nn.Parameter(torch.zeros(1, 1, d))
        grid_tokens = cfg.pos_grid[0] * cfg.pos_grid[1]
        self.pos_embed = nn.Parameter(torch.zeros(1, cfg.num_prefix_tokens + grid_tokens, d))
        self.blocks = nn.ModuleList([Block(cfg) for _ in range(cfg.depth)])
        if cfg.classifier == "avg":
            self.fc_norm = nn.LayerNorm(d, eps=cfg.layernorm_eps)  # timm: norm is Identity when fc_norm is used
        else:
            self.norm = nn.LayerNorm(d, eps=cfg.layernorm_eps)
        self.head = nn.Linear(d, cfg.num_classes)
        if cfg.classifier == "distilled":
            self.head_dist = nn.Linear(d, cfg.num_classes)

    @classmethod
    def from_state_dict(
        cls, state: dict, num_heads: int, pos_grid: Optional[Tuple[int, int]] = None,
        pos_antialias: bool = False,
    ) -> "VisionTransformer":
        """Builds the model from a timm state dict; shapes give everything but the head count and,
        for a non-square trained grid, the grid itself (a square grid is assumed otherwise)."""
        state = {k: torch.as_tensor(v) for k, v in state.items()}
        embed_dim, in_chans, patch, _ = state["patch_embed.proj.weight"].shape
        depth = len({int(m.group(1)) for k in state if (m := re.match(r"blocks\.(\d+)\.", k))})
        if "dist_token" in state:
            classifier = "distilled"
        elif "cls_token" in state:
            classifier = "token"
        else:
            classifier = "avg"
        prefix = {"token": 1, "avg": 0, "distilled": 2}[classifier]
        grid_tokens = state["pos_embed"].shape[1] - prefix
        if pos_grid is None:
            side = math.isqrt(grid_tokens)
            if side * side != grid_tokens:
                raise ValueError(f"pos_embed: {grid_tokens} grid tokens are not a square; pass pos_grid")
            pos_grid = (side, side)
        cfg = ViTConfig(
            patch_size=patch,
            embed_dim=embed_dim,
            depth=depth,
            num_heads=num_heads,
            mlp_hidden=state["blocks.0.mlp.fc1.weight"].shape[0],
            num_classes=state["head.weight"].shape[0],
            pos_grid=tuple(pos_grid),
            classifier=classifier,
            in_chans=in_chans,
            pos_antialias=pos_antialias,
        )
        model = cls(cfg)
        model.load_state_dict(state, strict=True)
        return model.eval()

    def position_embedding(self, grid: Tuple[int, int], options: ForwardOptions) -> Optional[torch.Tensor]:
        """pos[1, prefix + gh*gw, D] for a grid (resampled from the trained one), None for pos 'zero'."""
        if options.pos == "zero":
            return None
        p = self.cfg.num_prefix_tokens
        pos = resample_abs_pos_embed(self.pos_embed, grid, self.cfg.pos_grid, p, antialias=self.cfg.pos_antialias)
        if options.pos == "permuted":
            if sorted(options.perm) != list(range(grid[0] * grid[1])):
                raise ValueError(f"perm: not a permutation of the {grid[0]}x{grid[1]} patches")
            pos = torch.cat([pos[:, :p], pos[:, p:][:, list(options.perm)]], dim=1)
        return pos

    def embed(self, x: torch.Tensor, options: ForwardOptions = ForwardOptions()
              ) -> Tuple[torch.Tensor, Tuple[int, int]]:
        # x[B,C,H,W] -> (tokens[B, prefix + gh*gw, D] with (resampled) position embeddings added, (gh, gw))
        tokens, grid = self.patch_embed(x)
        prefix = []
        if self.cfg.classifier in ("token", "distilled"):
            prefix.append(self.cls_token.expand(tokens.shape[0], -1, -1))
        if self.cfg.classifier == "distilled":
            prefix.append(self.dist_token.expand(tokens.shape[0], -1, -1))
        tokens = torch.cat(prefix + [tokens], dim=1)
        pos = self.position_embedding(grid, options)
        return (tokens if pos is None else tokens + pos), grid

    def layer_options(self, options: ForwardOptions, grid: Tuple[int, int]) -> List[LayerOptions]:
        """ForwardOptions resolved into one LayerOptions per block, checked against this model and grid."""
        depth, heads, p = self.cfg.depth, self.cfg.num_heads, self.cfg.num_prefix_tokens
        n = p + grid[0] * grid[1]
        for block, head in options.heads_off:
            if not (0 <= block < depth and 0 <= head < heads):
                raise ValueError(f"heads_off: ({block}, {head}) is not a head of {depth} blocks x {heads}")
        restricted = depth if options.window_blocks is None else options.window_blocks
        if restricted > depth:
            raise ValueError(f"window_blocks: {restricted} > depth {depth}")
        norm_begin, norm_end = options.norm_blocks
        norm_end = norm_end or depth
        if norm_end > depth or norm_begin >= norm_end:
            raise ValueError(f"norm_blocks: ({norm_begin}, {options.norm_blocks[1]}) is not within {depth} blocks")
        visible = None
        if options.window is not None:
            visible = window_visibility(grid, p, options.window)
        elif options.mask is not None:
            visible = options.mask.to(torch.bool)
            if tuple(visible.shape) != (n, n):
                raise ValueError(f"mask: shape {tuple(visible.shape)}, expected ({n}, {n})")
            if not visible.any(-1).all():
                raise ValueError("mask: every query must see at least one key")
        return [
            LayerOptions(visible=visible if block < restricted else None,
                         normalization=options.normalization if norm_begin <= block < norm_end else "softmax",
                         heads_off=frozenset(h for b, h in options.heads_off if b == block))
            for block in range(depth)
        ]

    def classify(self, x: torch.Tensor) -> torch.Tensor:
        # residual stream x[B,T,D] after the last block -> logits[B,classes]
        kind = self.cfg.classifier
        if kind == "avg":
            return self.head(self.fc_norm(x[:, self.cfg.num_prefix_tokens :].mean(dim=1)))
        if kind == "distilled":
            x = self.norm(x)
            return (self.head(x[:, 0]) + self.head_dist(x[:, 1])) / 2  # eval-mode average of both heads
        return self.head(self.norm(x)[:, 0])

    def forward_with_tokens(self, x: torch.Tensor, options: Optional[ForwardOptions] = None) -> ForwardResult:
        """x[B,C,H,W] -> logits, each block's attention weights and the residual stream: tokens[0] the
        embedded tokens, tokens[l + 1] the stream after block l (before the final norm)."""
        if options is None:
            options = ForwardOptions()
        x, grid = self.embed(x, options)
        tokens, attentions = [x], []
        for block, layer in zip(self.blocks, self.layer_options(options, grid)):
            x, probs = block(x, layer)
            attentions.append(probs)
            tokens.append(x)
        return ForwardResult(self.classify(x), attentions, tokens)

    def forward(self, x: torch.Tensor, options: Optional[ForwardOptions] = None
                ) -> Tuple[torch.Tensor, List[torch.Tensor]]:
        """x[B,C,H,W] -> (logits[B,classes], [probabilities[B,heads,T,T] for each block])."""
        result = self.forward_with_tokens(x, options)
        return result.logits, result.attentions
