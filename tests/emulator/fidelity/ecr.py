"""ECR: pushing an existing tag to an immutable repository.

What moto 5.2.5 does differently (moto/ecr/models.py, `_resolve_image_tag_mutability`): a PutImage
that would move a tag in an IMMUTABLE repository is refused with ImageAlreadyExistsException
("Image with digest ... and tag ... already exists"). AWS answers ImageTagAlreadyExistsException
"The image tag '<tag>' already exists in the '<repository>' repository and cannot be overwritten
because the repository is immutable." (the model: "The specified image is tagged with a tag that
already exists. The repository is configured for tag immutability."). ImageAlreadyExistsException
is AWS's answer only for pushing the very same image with the same tag again ("no changes to the
manifest or image tag"), which moto already gets right.
"""

from fnmatch import fnmatchcase

from moto.core.exceptions import ServiceException
from moto.ecr.models import ECRBackend

from .util import wrap

TAG_IMMUTABLE = ("The image tag '{tag}' already exists in the '{repository}' repository and cannot "
                 "be overwritten because the repository is immutable.")


class ImageTagAlreadyExistsException(ServiceException):
    code = "ImageTagAlreadyExistsException"


def _tag_immutable(repository, tag: str) -> bool:
    """IMMUTABLE: every tag; *_WITH_EXCLUSION: the exclusion filters (wildcards) flip the rule."""
    mode = str(getattr(repository.image_tag_mutability, "value", repository.image_tag_mutability))
    filters = repository.image_tag_mutability_exclusion_filters or []
    excluded = any(fnmatchcase(tag, f.get("filter", "")) for f in filters)
    if mode == "IMMUTABLE":
        return True
    if mode == "IMMUTABLE_WITH_EXCLUSION":
        return not excluded
    if mode == "MUTABLE_WITH_EXCLUSION":
        return excluded
    return False


def _put_image(original):
    def put_image(self, repository_name, image_manifest, image_tag, *args, **kwargs):
        repository = self.repositories.get(repository_name)
        if repository is not None and image_tag and _tag_immutable(repository, image_tag):
            holder = next((i for i in repository.images if image_tag in i.image_tags), None)
            if holder is not None and holder.image_manifest != image_manifest:
                raise ImageTagAlreadyExistsException(
                    TAG_IMMUTABLE.format(tag=image_tag, repository=repository_name))
        return original(self, repository_name, image_manifest, image_tag, *args, **kwargs)

    return put_image


def install() -> None:
    wrap(ECRBackend, "put_image", _put_image)
