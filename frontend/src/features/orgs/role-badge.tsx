import type { Role } from "../../api/types";
import { Badge } from "../../components/ui/badge";

const TONES = { admin: "strong", editor: "accent", viewer: "neutral" } as const;

export function RoleBadge({ role }: { role: Role }) {
  return (
    <Badge tone={TONES[role]} data-testid="role-badge" title="Your role in this organisation">
      <span className="visually-hidden">Role: </span>
      {role}
    </Badge>
  );
}
