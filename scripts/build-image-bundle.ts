/** npm run build:image — writes dist/image/bin/{db-init,bootstrap,schema-apply,schema-worker}.cjs for the Dockerfile. */
import path from "node:path";
import { buildImageBundle } from "../lib/build/image-bundle";

buildImageBundle(path.resolve(__dirname, "..")).then(
  (outdir) => console.log(`image bundle written to ${path.relative(process.cwd(), outdir) || "."}`),
  (error: Error) => {
    console.error(`image bundle: ${error.message}`);
    process.exit(1);
  },
);
