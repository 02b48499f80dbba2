import { startTestService } from "../support/service";
import { adminRouteTests } from "./admin-suite";

/** The admin routes in process on a real SQLite file (admin-suite.ts). */
adminRouteTests("sqlite", (env) => startTestService(env));
