/**
 * The deployment routes of the control plane: delete a version's SageMaker deployment without
 * archiving it, and deploy it again (after it FAILED, or was deleted). Both ask; the `deployments`
 * function does the work within a minute, and the version's `deployment` shows how far it got.
 * Deleting a deployment that is DELETED already is a conflict (there is nothing to delete), as is
 * deploying one that is not FAILED or DELETED.
 */
import type { APIGatewayProxyEvent } from 'aws-lambda';
import * as z from 'zod/mini';
import { ConflictError } from '../errors.js';
import { callerOf, parseBody } from '../http/request.js';
import { jsonResponse } from '../http/response.js';
import { pathParam, type RouteTable } from '../http/router.js';
import { assertModelName } from '../registry/names.js';
import type { ModelRegistry } from '../registry/registry.js';
import { parseVersionNumber } from '../storage/version-numbers.js';

const reasonSchema = z.strictObject({ reason: z.optional(z.string().check(z.maxLength(1024))) });

/** Routes over a version's deployment (see the module's description). */
export function createDeploymentRoutes(deps: { readonly registry: Pick<ModelRegistry, 'deleteDeployment' | 'redeploy'> }): RouteTable {
  const target = (event: APIGatewayProxyEvent) => [assertModelName(pathParam(event, 'name')), parseVersionNumber(pathParam(event, 'version'))] as const;
  return {
    'POST /models/{name}/versions/{version}/deployment': async (event) => {
      const body = parseBody(event, reasonSchema, 'redeploy');
      const [model, version] = target(event);
      return jsonResponse(202, await deps.registry.redeploy(model, version, { by: callerOf(event), reason: body.reason ?? '' }));
    },
    'DELETE /models/{name}/versions/{version}/deployment': async (event) => {
      const [model, version] = target(event);
      const reason = event.queryStringParameters?.['reason'] ?? '';
      const deleting = await deps.registry.deleteDeployment(model, version, { by: callerOf(event), reason });
      // The registry moves a deployment to DELETING, and returns one that is DELETED as it is: nothing was asked of it.
      if (deleting.deployment?.state === 'DELETED') {
        throw new ConflictError(`the deployment of version ${version} of model '${model}' is DELETED; only a DEPLOYING, IN_SERVICE or FAILED deployment can be deleted`);
      }
      return jsonResponse(202, deleting);
    },
  };
}
