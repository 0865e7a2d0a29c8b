/**
 * Where the Firstock door logs out: `POST /api/V4/logout {userId, jKey}` → the logout engine →
 * `{"status":"success","data":"Successfully logged out"}`, only after the commit (INV-1).
 */
import { Type } from "typebox";
import { isCoreError } from "../../core/errors.ts";
import type { Actor } from "../../core/model.ts";
import type { DoorApp } from "../../http/app.ts";
import type { FirstockDoorOptions } from "./index.ts";
import { ROUTES } from "./routes.ts";
import { TokenBody, responses, sendSuccess } from "./wire.ts";
import { INVALID_JKEY, sendFailure } from "./wire-errors.ts";
import { requestOrigin } from "../../http/request-context.ts";

const SELF: Actor = { actor: "self", door: "firstock" };

export function logoutRoutes(app: DoorApp, door: FirstockDoorOptions): void {
  const { core } = door;

  app.post(
    ROUTES.logout,
    {
      schema: {
        operationId: "firstockLogout",
        tags: ["firstock"],
        summary: "End the session of a jKey",
        description:
          "Revokes durably before answering (INV-1). An unknown, ended, expired or other user's jKey gets 401 INVALID_JKEY and ends nothing (SEC-51), a repeat included, as Firstock answers a dead jKey.",
        body: TokenBody,
        response: responses(Type.Object({ status: Type.Literal("success"), data: Type.String() })),
      },
    },
    async (request, reply) => {
      const { userId, jKey } = request.body;
      // BAD-J24, SEC-101: an address that keeps presenting dead jKeys is refused before any lookup.
      const ip = requestOrigin(request, "firstock").ipAddress;
      await core.limits.check("bad-token", ip);
      const dead = async () => {
        await core.limits.record("bad-token", ip);
        return sendFailure(reply, INVALID_JKEY);
      };
      const identity = await core.identities.findByIdentifier(userId);
      if (!identity || jKey === "") return dead();
      let ended;
      try {
        ({ ended } = await core.logout({ kind: "token", token: jKey, ownerId: identity.id }, "logout", SELF));
      } catch (error) {
        if (isCoreError(error, "SESSION_INACTIVE")) return dead();
        throw error;
      }
      // Success only for a session its holder could still use: one already over (revoked,
      // expired, or idle and only now revoked for good) is a dead jKey, as Firstock answers it.
      if (!ended.some((s) => s.wasInUse)) return dead();
      return sendSuccess(reply, "Successfully logged out");
    },
  );
}
