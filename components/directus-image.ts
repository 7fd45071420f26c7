import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { buildImageBundle } from "../lib/build/image-bundle";

export interface DirectusImageArgs {
  /** Local image name, e.g. trm-directus:dev (one per stack). */
  imageName: string;
  /** Project root holding the Dockerfile, as a path relative to the program's working directory. */
  context: string;
  platform?: string;
}

/**
 * Our Directus image, built from the Dockerfile and kept local (CI pushes it after its dry-run).
 * The image waits for the bundled runners (its context resolves once they are written), so the build
 * context the provider hashes is complete even at preview: the image rebuilds only when its inputs
 * change. esbuild bundles in its own process while the program goes on registering the database.
 */
export class DirectusImage extends pulumi.ComponentResource {
  readonly image: docker.Image;
  /** The built image's id (sha256:…): containers that use it are replaced when it changes. */
  readonly imageId: pulumi.Output<string>;
  readonly imageName: pulumi.Output<string>;

  constructor(name: string, args: DirectusImageArgs, opts?: pulumi.ComponentResourceOptions) {
    super("trm:directus:DirectusImage", name, {}, opts);

    const context = pulumi.output(buildImageBundle(args.context)).apply(() => args.context);
    this.image = new docker.Image(
      `${name}-image`,
      {
        imageName: args.imageName,
        build: {
          context,
          dockerfile: `${args.context}/Dockerfile`,
          platform: args.platform ?? "linux/amd64",
          // BuildKit in the daemon (no buildx needed): the classic builder, driven through the API as the
          // provider does, leaves every intermediate container behind.
          builderVersion: "BuilderBuildKit",
        },
        skipPush: true,
        buildOnPreview: false,
      },
      { parent: this },
    );

    this.imageId = this.image.repoDigest;
    this.imageName = this.image.imageName;
    this.registerOutputs({ imageId: this.imageId, imageName: this.imageName });
  }
}
