import type { Role } from "../../api/types";
import { Badge } from "../../components/ui/badge";

const TONES = { admin: "strong", builder: "accent", end_user: "neutral", viewer: "neutral" } as const;
const LABELS = { admin: "admin", builder: "builder", end_user: "end user", viewer: "viewer" } as const;

export function RoleBadge({ role }: { role: Role }) {
  return (
    <Badge tone={TONES[role]} data-testid="role-badge" title="Your role in this organisation">
      <span className="visually-hidden">Role: </span>
      {LABELS[role]}
    </Badge>
  );
}
